import Foundation
import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// Everything a plan is made from: model and data, budgets, hardware profile, and the settings of the
/// sensitivity sweep, the proposals, their measurement and the refinement.
public struct PlanRequest: Sendable {
    /// Joint refinement of the chosen plan's steps (LAPQ's last step).
    public struct Refinement: Sendable, Equatable {
        public var optimizer: StepSearch.JointOptimizer
        /// Loss evaluations allowed.
        public var maxEvaluations: Int
        /// Bias correction first (kept only when it lowers the loss).
        public var biasCorrection: Bool
        /// Powell stops once this many evaluations pass without a better loss on the held-out samples (nil: it
        /// runs to `maxEvaluations`). On the examples the last held-out gain came after 85 (MiniLM), 132 and 260
        /// (mobilenet-digits) evaluations, at most 139 after the one before it.
        public var patience: Int?

        /// The default evaluation budget. With 400, no refinement of the examples' plans gained on its held-out
        /// samples after evaluation 260 (mobilenet-digits at eight budgets, MiniLM at three, EfficientNet-Lite at
        /// 5bits), so 300 returns the same steps there for a quarter less time; raise it for models whose gains
        /// come later (a sweep over every step of a large model needs about nine evaluations per quantizer).
        public static let defaultMaxEvaluations = 300
        /// The default patience.
        public static let defaultPatience = 150

        public init(optimizer: StepSearch.JointOptimizer = .powell, maxEvaluations: Int = Self.defaultMaxEvaluations,
                    biasCorrection: Bool = true, patience: Int? = Self.defaultPatience) {
            self.optimizer = optimizer
            self.maxEvaluations = maxEvaluations
            self.biasCorrection = biasCorrection
            self.patience = patience
        }
    }

    /// The ONNX model's path (absolute, so the plan file names it wherever it is read).
    public var model: String
    /// Calibration inputs as `LabelledData` reads them (`.npy`, `.npz`, `NAME=X.npy`).
    public var calibration: [String]
    public var labels: String?
    /// Validation inputs (empty: none).
    public var validation: [String] = []
    public var validationLabels: String?
    /// The plan's budgets; the first one's cost kind is the trade-off axis.
    public var budgets: [BudgetConstraint]
    public var profile: HardwareProfile
    /// The profile file's text, which keys the sensitivity cache (the in-memory profile has unordered dictionaries).
    public var profileText: String
    public var loss: CalibrationLoss = .klDivergence
    /// What the rest of the model is while one group's sensitivity is measured.
    public var baseline: SensitivitySweep.Baseline = .fp32
    /// Step search of the sensitivity sweep and of plan measurements.
    public var stepSearch: StepSearch.Initialization = .bestP
    /// The samples LAPQ's p sweep ranks p values on (the chosen p is always evaluated on all of them).
    public var pSweepSamples: PSweepSamples = .probe
    /// How many of the probe's best p values are scored on all calibration data (nil: `defaultPSweepFinalists`).
    public var pSweepFinalists: Int?
    /// Keep the first and last quantized layers in FP32.
    public var keepFirstLast = false
    /// Re-run only what changed between evaluations (false only for benchmarks).
    public var reusesActivations = true
    /// Samples per forward pass.
    public var batchSize = 256
    /// At most this many calibration samples (the first ones); nil: all.
    public var calibrationSamples: Int?
    /// Plans the ILP proposes per budget value (1: the ILP optimum alone).
    public var proposals = 3
    /// Relative loss tolerance of the BOPs tie-break; nil: the default for the number of proposals.
    public var tieTolerance: Double?
    /// Budget values of the Pareto sweep (0: no sweep).
    public var paretoPoints = 20
    /// Measure plans (false: predicted losses only, no steps).
    public var measures = true
    /// How proposals are measured: composed from the sweep's per-group quantizers, or a whole-model search each.
    public var measurement: PlanMeasurementMode = .composed
    /// With composed measurement, also run LAPQ's whole-model step search on the chosen plan and start refinement
    /// from it when it measures lower on the calibration data (false: from the composed quantizers, which ranked it).
    public var searchesChosenPlan = false
    /// Refinement of the chosen plan (nil: none; ignored without measurement).
    public var refinement: Refinement? = Refinement()
    /// Where sensitivity tables and measured plans are kept.
    public var cacheDirectory: URL
    /// Where plan.json, the Pareto files and report.html go.
    public var outputDirectory: URL
    /// Kernel threads (nil: all cores).
    public var threads: Int?
    /// Measure only this shard's groups into its own file (`mpq sensitivity --shard I/N`).
    public var shard: SensitivityShard? = nil
    /// Measure groups that shard files lack instead of stopping with the shards to run.
    public var measuresMissingShards = false
    /// Groups fixed by hand (`--pin PATTERN=CANDIDATE`); the search decides the rest.
    public var pins: [Pin] = []

    /// A request with the required inputs; every setting starts at `mpq plan`'s default.
    public init(model: String, calibration: [String], labels: String? = nil, budgets: [BudgetConstraint],
                profile: HardwareProfile, profileText: String, cacheDirectory: URL, outputDirectory: URL) {
        self.model = model
        self.calibration = calibration
        self.labels = labels
        self.budgets = budgets
        self.profile = profile
        self.profileText = profileText
        self.cacheDirectory = cacheDirectory
        self.outputDirectory = outputDirectory
    }

    /// Above this many multiply-accumulates per pass over the calibration data, the probe's best p alone is scored
    /// on all of it. Three finalists cost two more full evaluations per search: on mobilenet-digits (~1 GMAC a
    /// pass) that is a second and its probe's ranking is noisy (the best of three differed from its best in 27 of
    /// 57 searches); on EfficientNet-Lite (~140 GMAC) it is a third of a half-hour sweep and the probe's best was
    /// also the best on all data in 22 of 26 searches, at most 1.4 % worse in the others.
    public static let oneFinalistFromMACs = 10_000_000_000.0

    /// The p sweep's finalists for a model of `macsPerSample` on `samples` calibration samples: 3, or 1 above
    /// `oneFinalistFromMACs` per pass.
    public static func defaultPSweepFinalists(macsPerSample: Double, samples: Int) -> Int {
        macsPerSample * Double(samples) > oneFinalistFromMACs ? 1 : 3
    }

    /// The budget whose cost kind is the trade-off axis (the first one).
    public var primaryBudget: BudgetConstraint { budgets[0] }

    /// Whether the chosen plan is refined.
    public var refines: Bool { measures && refinement != nil }
}
