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
        /// When Powell stops for want of a better loss on the held-out samples.
        public var patience: Patience
        /// How finely Powell's line searches place a step multiplier (`StepSearch.Options.lineSearchResolution`).
        public var lineSearchResolution: Double?
        /// The order of Powell's coordinates (nil: cheapest first above `PlanRequest.expensivePassMACs` per fit pass,
        /// else the plan's; `JointRefinement.coordinateOrder`).
        public var coordinateOrder: StepSearch.CoordinateOrder?

        /// The default evaluation budget. With 400, no refinement of the examples' plans gained on its held-out
        /// samples after evaluation 260 (mobilenet-digits at eight budgets, MiniLM at three, EfficientNet-Lite at
        /// 5bits), so 300 returns the same steps there for a quarter less time; raise it for models whose gains
        /// come later (a sweep over every step of a large model needs about nine evaluations per quantizer).
        public static let defaultMaxEvaluations = 300
        /// The default line-search resolution. With the reference's (1e-11) mobilenet-digits' refinement at 6bits spent
        /// 281 evaluations on nine of its ~45 steps, fifty on each step that gained nothing; at 1e-2 a line search
        /// takes about twelve, so the same budget covers four times as many steps, and over eleven budgets the
        /// validation loss was no worse (`defaultPatience`; docs/benchmarks.md).
        public static let defaultLineSearchResolution = 1e-2
        /// The default patience where one pass over the fit samples costs more than `PlanRequest.expensivePassMACs`
        /// (the steps are visited cheapest first). With line searches that stop at `defaultLineSearchResolution` (about
        /// twelve evaluations each) 100 is eight steps without a held-out gain. Over mobilenet-digits' warm refinements at
        /// eleven budgets from 5 to 8 bits it took 1732 evaluations where 150 took 2530 (and the old line searches
        /// 2490), and the validation KL's geometric mean was 0.000210 against 0.000212 (0.000215); single budgets move
        /// both ways by the held-out selection's noise (docs/benchmarks.md). On EfficientNet-Lite it found no held-out
        /// gain in 100 evaluations and kept the bias-corrected steps, which validated better (KL 0.0485) than the old
        /// settings' gain at evaluation 75 (0.0496); MiniLM's refinements had held-out gains up to evaluation 78.
        public static let defaultPatience = 100
        /// The default patience where one pass over the fit samples costs at most `PlanRequest.expensivePassMACs` (the
        /// steps are visited in the plan's order): five line searches. On the examples' cheap models it validated as
        /// well as 100 in 24–36 % fewer evaluations (`benchmarks/refine_patience.py`, eleven budgets each:
        /// mobilenet-digits 1829 → 1168 evaluations, the same steps at nine budgets, validation KL's geometric mean
        /// 0.00022412 → 0.00022405; the digits CNN 1019 → 774, the same steps at all eleven); 50 lost held-out gains
        /// there (docs/benchmarks.md).
        public static let cheapPassPatience = 60

        /// How many evaluations without a held-out gain end the search.
        public enum Patience: Sendable, Equatable {
            /// `defaultPatience`, or `cheapPassPatience` where a pass over the fit samples is cheap.
            case automatic
            case evaluations(Int)
            /// Run to `maxEvaluations`.
            case unlimited

            /// The patience in evaluations for a fit pass of `macs` multiply-accumulates (nil: run to the evaluation
            /// budget).
            public func evaluations(macsPerPass macs: Double) -> Int? {
                switch self {
                case .automatic: PlanRequest.isExpensive(macsPerPass: macs) ? Refinement.defaultPatience : Refinement.cheapPassPatience
                case .evaluations(let n): n
                case .unlimited: nil
                }
            }

            /// A command-line count: nil is automatic, 0 unlimited.
            public init(count: Int?) {
                self = count.map { $0 == 0 ? .unlimited : .evaluations($0) } ?? .automatic
            }
        }

        public init(optimizer: StepSearch.JointOptimizer = .powell, maxEvaluations: Int = Self.defaultMaxEvaluations,
                    biasCorrection: Bool = true, patience: Patience = .automatic,
                    coordinateOrder: StepSearch.CoordinateOrder? = nil,
                    lineSearchResolution: Double? = Self.defaultLineSearchResolution) {
            self.optimizer = optimizer
            self.lineSearchResolution = lineSearchResolution
            self.maxEvaluations = maxEvaluations
            self.biasCorrection = biasCorrection
            self.patience = patience
            self.coordinateOrder = coordinateOrder
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
    /// The samples LAPQ's p sweep ranks p values on (the chosen p is evaluated on all of them unless `sensitivitySamples` is the probe).
    public var pSweepSamples: PSweepSamples = .probe
    /// How many of the probe's best p values are scored on all calibration data (nil: `defaultPSweepFinalists`).
    public var pSweepFinalists: Int?
    /// LAPQ's p sweep runs for candidates with a grid below this many bits; the others take Lp clipping at the
    /// largest p and one evaluation (`StepSearch.Options.unsweptFromBits`; 17 sweeps every grid). nil:
    /// `defaultPSweepBelowBits`.
    public var pSweepBelowBits: Int?
    /// The samples the sweep measures loss increases on (nil: `defaultSensitivitySamples`). Plans are measured on all.
    public var sensitivitySamples: SensitivitySamples?
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

    /// Above this many multiply-accumulates per pass over the calibration data the sweep is trimmed: the probe's
    /// best p alone is scored on all of it, grids from 8 bits on are not swept, and sensitivities are measured on
    /// the probe (`defaultSensitivitySamples`). Above it per pass over its fit samples the refinement visits its
    /// coordinates cheapest first (`JointRefinement.coordinateOrder`).
    ///
    /// Three finalists cost two more full evaluations per search: on mobilenet-digits (~1 GMAC a pass) that is a
    /// second and its probe's ranking is noisy (the best of three differed from its best in 27 of 57 searches); on
    /// EfficientNet-Lite (~140 GMAC) it is a third of a half-hour sweep and the probe's best was also the best on
    /// all data in 22 of 26 searches, at most 1.4 % worse in the others. At 8 bits the probe's loss over p is noise
    /// around a flat line (EfficientNet-Lite: over ten 8-bit curves each p averaged 7-11 % above its curve's best,
    /// none systematically lower); skipping the sweep there raised 8-bit loss increases by 0-19 % (median 7 %) and
    /// cut the sweep from 15 to 9 minutes, with the refined plan's loss unchanged (docs/benchmarks.md).
    public static let expensivePassMACs = 10_000_000_000.0

    /// Whether a pass of `macs` multiply-accumulates is above `expensivePassMACs`.
    public static func isExpensive(macsPerPass macs: Double) -> Bool { macs > expensivePassMACs }

    /// The p sweep's finalists for a model of `macsPerSample` on `samples` calibration samples: 3, or 1 above
    /// `expensivePassMACs` per pass.
    public static func defaultPSweepFinalists(macsPerSample: Double, samples: Int) -> Int {
        isExpensive(macsPerPass: macsPerSample * Double(samples)) ? 1 : 3
    }

    /// The grids from which the p sweep is skipped for a model of `macsPerSample` on `samples` calibration samples:
    /// 16 bits, or 8 above `expensivePassMACs` per pass.
    public static func defaultPSweepBelowBits(macsPerSample: Double, samples: Int) -> Int {
        isExpensive(macsPerPass: macsPerSample * Double(samples)) ? 8 : 16
    }

    /// The sweep's samples for a model of `macsPerSample` on `samples` calibration samples: all of them, or the probe
    /// above `expensivePassMACs` per pass. There a sweep's evaluations on all data were about 60 % of its time while
    /// the integer program only ranks plans by these numbers: the measured Pareto plans and the chosen plan are
    /// scored on all data either way (docs/benchmarks.md).
    public static func defaultSensitivitySamples(macsPerSample: Double, samples: Int) -> SensitivitySamples {
        isExpensive(macsPerPass: macsPerSample * Double(samples)) ? .probe : .all
    }

    /// The budget whose cost kind is the trade-off axis (the first one).
    public var primaryBudget: BudgetConstraint { budgets[0] }

    /// Whether the chosen plan is refined.
    public var refines: Bool { measures && refinement != nil }
}
