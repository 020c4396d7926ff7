import Foundation
import MPQLAPQ
import MPQPlanner
import MPQQuantization

/// plan.json: what `mpq plan` writes and `mpq refine`, `mpq export` and the scripts read. The one place where a
/// plan's result becomes names and numbers on disk (`init(result:)`); everything else works on `PlanResult`.
///
/// Field names are those of the files written before the format was versioned (version 1, no `formatVersion`
/// field); version 2 adds `formatVersion`.
public struct PlanFile: Codable, Sendable {
    /// The version this build writes.
    public static let currentFormatVersion = 2

    /// One group's choice.
    public struct GroupChoice: Codable, Sendable {
        public var group: String
        public var layers: [String]
        public var opTypes: [String]
        public var candidate: String
        public var weightBits: Int
        public var activationBits: Int
        public var parameters: Int
        public var macs: Int
        /// Predicted loss increase of this group at its candidate.
        public var sensitivity: Double?
    }

    /// The chosen candidate of every planned group.
    public struct PlannedGroups: Codable, Sendable {
        public var groups: [GroupChoice]
    }

    /// A point of the trade-off curve.
    public struct Point: Codable, Sendable {
        public var label: String
        public var cost: Double
        public var predictedLoss: Double
        public var measuredLoss: Double?
        /// For uniform points: false when some groups could not take the candidate and took the nearest allowed one.
        public var exact: Bool
        public var candidates: [String]? = nil
        public var validation: ValidationMetrics? = nil
        /// For ILP proposals: the swept budget limits (cost-kind units) whose proposals included this plan.
        public var budgets: [Double]? = nil
        /// For ILP proposals: the best rank among the k best by predicted loss (0: an ILP optimum); nil when only
        /// the tie-break proposed it.
        public var rank: Int? = nil
        /// For ILP proposals: whether the BOPs tie-break proposed it.
        public var tieBroken: Bool? = nil
        /// For ILP proposals: whether it measured best among the proposals of some budget.
        public var selected: Bool? = nil
        /// For ILP proposals: whether it is on the measured Pareto front (the lower envelope of all measured proposals).
        public var onFront: Bool? = nil
    }

    /// nil in files written before the format was versioned (version 1).
    public var formatVersion: Int? = PlanFile.currentFormatVersion
    public var model: String
    public var profile: String
    public var loss: String
    public var budgets: [String]
    /// Manual overrides the plan was made with (`PATTERN=CANDIDATE`); nil when there were none.
    public var pins: [String]? = nil
    /// Calibration data and labels the plan was made with (for `mpq refine`).
    public var calib: [String] = []
    public var labels: String? = nil
    /// The first this many calibration samples (nil: all of them; `--calib-samples`).
    public var calibSamples: Int? = nil
    public var batchSize: Int = 256
    /// Candidate names, and the measured loss increase of every group at each (nil: not allowed).
    public var candidates: [String] = []
    public var sensitivities: [String: [String: Double?]] = [:]
    public var fp32Loss: Double
    public var bopsReference: String
    public var floatOnlyGroups: [String]
    /// Layer outputs kept in float because they feed a float-only op (e.g. attention scores into Softmax).
    public var floatTensors: [QuantizationPolicy.FloatTensor] = []
    public var ties: [[String]]
    public var plan: PlannedGroups? = nil
    /// The plan's costs by cost kind ("bits", "size", "bops", "latency").
    public var costs: [String: Double] = [:]
    public var predictedLoss: Double? = nil
    public var measuredLoss: Double? = nil
    /// The calibration loss after LAPQ's whole-model step search on the chosen plan (absent when none ran).
    public var stepSearchLoss: Double? = nil
    public var validation: ValidationMetrics? = nil
    public var refinement: RefinementReport? = nil
    public var costKind: String? = nil
    public var chosenCost: Double? = nil
    /// Plans the ILP proposed per budget value (the k best by predicted loss; measurement picks one).
    public var proposalsPerBudget: Int? = nil
    /// The proposals at the plan's own budget, measured; `selected` marks the best of them.
    public var chosenProposals: [Point]? = nil
    /// The chosen plan's label among the measured Pareto proposals ("plan 9"), or among `chosenProposals` without a
    /// sweep. With a sweep the plan is the best measured ILP proposal meeting every budget, which may come from a
    /// cheaper budget value than the plan's own.
    public var chosenLabel: String? = nil
    /// Proposals over all swept budgets (repeats included) and the distinct plans among them that were measured.
    public var sweepProposals: Int? = nil
    public var sweepPlansMeasured: Int? = nil
    /// Wall seconds per phase (sensitivities, proposals, refinement, uniform, pareto, greedy).
    public var seconds: [String: Double]? = nil
    public var uniform: [Point] = []
    /// Every measured ILP proposal of the sweep, by cost; `onFront` marks the measured Pareto front.
    public var pareto: [Point] = []
    public var greedy: [Point] = []
    public var tensors: [QuantizerRecord] = []
    /// Bias values after bias correction, by initializer name.
    public var correctedBiases: [String: [Float]] = [:]

    /// Reads a plan.json written by `mpq plan`; it must hold measured steps.
    public static func load(_ path: String) throws -> PlanFile {
        guard FileManager.default.fileExists(atPath: path) else { throw InputProblem("\(path): no such plan file") }
        let file: PlanFile
        do {
            file = try StrictJSON.decode(PlanFile.self, from: URL(fileURLWithPath: path))
        } catch let problem as StrictJSON.Problem {
            throw InputProblem("\(problem.path) is not a valid plan file: \(problem.reason)")
        }
        if let version = file.formatVersion, version > currentFormatVersion {
            throw InputProblem("\(path) is plan format \(version), newer than this mpq reads (\(currentFormatVersion)); update mpq")
        }
        guard !file.tensors.isEmpty else {
            throw InputProblem("\(path) has no measured steps; run `mpq plan` without --no-measure")
        }
        try file.validateRecords(path: path)
        return file
    }

    /// Writes the file as stable, readable JSON (sorted keys), atomically.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(self) + Data("\n".utf8)).write(to: url, options: .atomic)
    }

    /// The best measured uniform point whose cost is no higher than the plan's.
    public var bestUniformAtCost: Point? {
        guard let chosenCost else { return nil }
        return uniform.filter { $0.cost <= chosenCost * (1 + 1e-9) && $0.measuredLoss != nil }.min { $0.measuredLoss! < $1.measuredLoss! }
    }
}
