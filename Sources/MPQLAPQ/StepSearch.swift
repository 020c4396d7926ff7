import Foundation
import MPQExecutor
import MPQGraph
import MPQOptimize
import MPQQuantization

/// LAPQ's loss-aware step search (Nahshan et al.): layer-wise Lp clipping for a sweep of p,
/// the calibration loss at each p, a quadratic fit for p*, and optionally Powell's method over all steps.
public struct StepSearch {
    /// How the initial steps are chosen for each tensor.
    public enum Initialization: String, Sendable, Codable, CaseIterable {
        /// No clipping: α = max |x| (the range, for asymmetric grids).
        case minMax = "minmax"
        /// Lp clipping with p = 2.
        case mmse
        /// Lp clipping at the sampled p with the lowest calibration loss.
        case bestP = "lapq-layerwise"
        /// Lp clipping at the vertex p* of a quadratic fitted to the sampled losses (LAPQ's step 2).
        case quadratic = "lapq-quadratic"
    }

    public struct Options: Sendable {
        /// Norms swept (LAPQ: 10 values from 2.0 to 4.0).
        public var pValues: [Double] = (0..<10).map { 2.0 + 2.0 * Double($0) / 9.0 }
        public var initialization: Initialization = .quadratic
        /// Run Powell's method over all step multipliers after the initialization (LAPQ's step 3).
        public var joint: JointOptimizer? = .powell
        /// Powell sweeps (the reference uses 1, or 2 for ResNet-18).
        public var maxIterations = 1
        /// Loss evaluations allowed to the joint optimizer.
        public var maxEvaluations = 2000
        /// How finely Powell's line searches place a step multiplier (`PowellOptions.lineSearchAbsoluteTolerance`;
        /// nil: the reference's 1e-11, as LAPQ ran it; the plan's refinement sets
        /// `PlanRequest.Refinement.defaultLineSearchResolution`).
        public var lineSearchResolution: Double? = nil
        /// With held-out samples and Powell: stop once this many evaluations have passed without a held-out
        /// improvement (the answer, the best point on held-out data, would not change unless one came later).
        public var patience: Int? = nil
        /// The Lp search method for each tensor.
        public var lpMethod: LpClipping.Method = .gridRefined
        /// Workers for the p sweep (1: in turn). The sweep's own parallelism is over groups, so only a single
        /// whole-model search (the chosen plan's) sets more.
        public var pSweepThreads = 1
        /// With a probe loss (`StepSearch.probeLoss`) and `lapq-layerwise`: how many of the probe's best p values are
        /// scored on all calibration data, the best of them kept (`lapq-quadratic` scores its p* alone). One by
        /// default: on EfficientNet-Lite the probe's best p was also the best of three on all data in 22 of 26
        /// searches, and at most 1.4 % worse in the others, for two fewer full evaluations per search.
        public var probeFinalists = 1
        /// Put Conv/Gemm biases on their deployed int32 grid (`BiasQuantization`) wherever the model is
        /// evaluated; false keeps them float (the LAPQ paper's simulation, which no integer kernel runs).
        public var int32Biases = true
        /// When every searched grid has at least this many bits, the p sweep is skipped: Lp clipping at the largest p
        /// and one evaluation on all data (nil: always swept). On a 16-bit grid the p values' losses differ by rounding
        /// noise (a sliver of an 8-bit sensitivity), so the sweep would buy nothing for ten probe evaluations.
        public var unsweptFromBits: Int? = 16
        /// With a probe loss: every loss this search returns is the probe's (and so is its state), with no evaluation on
        /// all calibration data. The sensitivity sweep of expensive models scores candidates so (`SensitivitySamples`);
        /// a plan is always measured on all of them.
        public var scoresOnProbe = false
        /// The order in which the joint search's first Powell sweep visits the quantizers.
        public var coordinateOrder: CoordinateOrder = .graph
        public init() {}
    }

    /// The order of the joint search's coordinates (one step multiplier per quantizer).
    public enum CoordinateOrder: String, Sendable, Codable, CaseIterable {
        /// The quantizers' own order (the plan's groups in graph order: the first layers first).
        case graph
        /// Fewest downstream nodes first: an evaluation along the last layers' steps re-runs only the end of the
        /// network. On a model whose evaluations take seconds (EfficientNet-Lite: 130 steps, 76 evaluations in 3
        /// minutes covered about twenty of them) the search then costs a third as much per evaluation and starts
        /// where the sensitivities are largest. On mobilenet-digits it fitted the calibration data far better but
        /// validated worse in two of eight runs (uniform W4A8 by `mpq quantize`: validation KL 0.0132 → 0.0204
        /// where the graph order gave 0.0125), so it is not the default there (docs/benchmarks.md).
        case cheapestFirst = "cheapest-first"
    }

    public enum JointOptimizer: String, Sendable, Codable {
        case powell
        case bobyqa
    }

    /// What the search did, for reports.
    public struct Report: Sendable, Codable {
        public var initialization: Initialization
        /// (p, calibration loss) for each swept p (on the probe's samples when the sweep ranked p there).
        public var sweep: [[Double]]
        /// (p, loss on all calibration data) of the probe's finalists, when the sweep ran on the probe.
        public var rescored: [[Double]]? = nil
        public var pStar: Double?
        public var fitFallback: String?
        public var lossAfterInitialization: Double
        public var joint: JointOptimizer?
        public var lossAfterJoint: Double?
        public var jointEvaluations: Int?
        /// With held-out samples: the joint search's evaluations (1-based) after which the held-out loss improved.
        /// The answer is the point of the last one; the gaps between them show the patience a model needs.
        public var heldOutGains: [Int]?
        /// Multipliers on the initial steps, per quantizer, after the joint search.
        public var multipliers: [Double]?
        /// For refinement with a bias-correction plan: whether the corrected biases were kept.
        public var biasCorrected: Bool?
    }

    public var options: Options
    /// Calibration loss of the joined model outputs (lower is better).
    public var loss: @Sendable ([String: Tensor]) -> Double
    /// The same loss on the probe's samples. When set, LAPQ's p sweep ranks the p values on the probe and only its
    /// best few (`options.probeFinalists`) are evaluated on all calibration data, instead of every p.
    public var probeLoss: (@Sendable ([String: Tensor]) -> Double)?
    /// Progress messages (stage, done, total).
    public var progress: ((String, Int, Int) -> Void)?
    /// Weight steps already computed (shared by copies of this search).
    public var weightSteps = WeightStepCache()

    public init(options: Options = Options(), loss: @escaping @Sendable ([String: Tensor]) -> Double,
                progress: ((String, Int, Int) -> Void)? = nil) {
        self.options = options
        self.loss = loss
        self.progress = progress
    }

    /// Whether this search's losses are the probe's (`Options.scoresOnProbe` with a probe loss).
    public var scoresOnProbe: Bool { options.scoresOnProbe && probeLoss != nil }

    /// The probe loss of `settings` evaluated on `probe`: the reference a probe-scored search's losses are compared with.
    public func probeLoss(of settings: [String: QuantizerSetting], probe: inout CalibrationSession) throws -> Double {
        let state = try probe.evaluate(settings)
        return loss(ofBatches: state.outputs, in: probe, using: probeLoss)
    }

    /// The calibration loss of a session state (outputs of every batch joined).
    public func loss(of state: CalibrationSession.State, in session: CalibrationSession) -> Double {
        precondition(state.isComplete, "the loss of a state evaluated only partway")
        return loss(ofBatches: state.outputs, in: session)
    }

    /// The calibration loss of per-batch graph outputs (joined along the sample axis), by `loss` or another.
    public func loss(ofBatches outputs: [[String: Tensor]], in session: CalibrationSession,
                     using loss: (@Sendable ([String: Tensor]) -> Double)? = nil) -> Double {
        var joined: [String: Tensor] = [:]
        for output in session.graph.outputs {
            joined[output.name] = session.joinedOutputs(outputs, name: output.name)
        }
        return (loss ?? self.loss)(joined)
    }
}
