import ArgumentParser
import Foundation
import MPQLAPQ
import MPQPlanning
import MPQQuantization
import MPQSensitivity

/// `mpq plan`: per-layer bit-widths under hardware budgets, with the measured trade-off curve.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Choose a precision per layer group under budgets (e.g. 4.5bits, 800KB, 3.5ms, 60%bops).",
        discussion: """
        Sensitivities (LAPQ step search per group and candidate) are cached in --cache-dir and reused when the \
        model, data, profile and settings are unchanged; an interrupted sweep resumes where it stopped. \
        With a project file (mpq.json naming model, calib, labels...) `mpq plan --budget 4.5bits --profile generic-npu` needs no other arguments.
        """
    )

    @Argument(help: "The ONNX model (default: the project file's).")
    var model: String?

    @Option(help: "Calibration inputs (.npy, .npz, or NAME=X.npy).")
    var calib: [String] = []

    @Option(help: "Calibration labels (.npy).")
    var labels: String?

    @Option(help: "Validation inputs.")
    var val: [String] = []

    @Option(name: .customLong("val-labels"), help: "Validation labels (.npy).")
    var valLabels: String?

    @Option(help: "Budget(s): 4.5bits (average weight bits), 2MB / 800KB (weight size), 3.5ms (latency), 60%bops. Repeatable.")
    var budget: [String] = []

    @Option(help: "Fix groups by hand: PATTERN=CANDIDATE, e.g. '/_fc/*=W8A16' (a glob on group or layer names), 're:attention.*(q|k|v)_proj=W8A8' (a regular expression) or 'op:Gemm=W8A16' (an op type). Repeatable; the search decides the rest.")
    var pin: [String] = []

    @Option(help: "Hardware profile: a bundled name (generic-npu, dsp-int16, mcu-int8, gpu-tensorcore) or a JSON path.")
    var profile: String?

    @Option(help: "Calibration loss (default: kl, which grows with every deviation from the FP32 outputs even where a trained model's cross-entropy on its own data is saturated).")
    var loss: CalibrationLoss?

    @Option(help: "While measuring one group, the rest of the model is fp32 (default) or highest.")
    var baseline = SensitivitySweep.Baseline.fp32

    @Option(name: .customLong("step-search"), help: "Step search for sensitivities and measurements: lapq-layerwise (Lp clipping at the best p of the sweep; default, the most stable), lapq-quadratic (p* of a quadratic fit), mmse, minmax.")
    var stepSearch: StepSearch.Initialization?

    @Option(name: .customLong("p-sweep-samples"), help: "Samples LAPQ's p sweep ranks p values on: probe (default: the first 64 samples; its best p values are then scored on all calibration data, see --p-sweep-finalists, unless sensitivities are measured on the probe) or all (every p on all of them, as in the LAPQ paper).")
    var pSweepSamples: PSweepSamples?

    @Option(name: .customLong("p-sweep-finalists"), help: "How many of the probe's best p values are scored on all calibration data (default: 3, or 1 when one pass over the calibration data costs more than 10 GMAC).")
    var pSweepFinalists: Int?

    @Option(name: .customLong("p-sweep-below-bits"), help: "LAPQ's p sweep runs for candidates with a grid below this many bits; the others use Lp clipping at p = 4 and one evaluation (default: 16, or 8 when one pass over the calibration data costs more than 10 GMAC, so that only W4A8 is swept; 17 sweeps every grid).")
    var pSweepBelowBits: Int?

    @Option(name: .customLong("sensitivity-samples"), help: "Samples each sensitivity is measured on: all, or probe (the first 64, against their own FP32 loss; needs --p-sweep-samples probe). Default: all, or probe when one pass over the calibration data costs more than 10 GMAC. Plans are measured on all samples either way.")
    var sensitivitySamples: SensitivitySamples?

    @Option(name: .customLong("pareto-points"), help: "Budget values in the Pareto sweep (0 skips it).")
    var paretoPoints = 20

    @Option(help: "Plans the ILP proposes per budget (the plan's own and every Pareto point): the K best by predicted loss, found by no-good cuts, each measured; the best measured one is kept. 1: the ILP optimum alone, unmeasured alternatives not considered.")
    var proposals = 3

    @Option(name: .customLong("tie-tolerance"), help: "The BOPs tie-break: among plans whose predicted loss is within this fraction of the optimum, the one with the fewest BOPs. With --proposals above 1 it is one more proposal (default 0.01; 0 leaves it out); with --proposals 1 it replaces the optimum (default 0: off).")
    var tieTolerance: Double?

    @Flag(name: .customLong("no-measure"), help: "Skip measuring plans (predicted losses only).")
    var noMeasure = false

    @Option(help: "How proposals are measured: composed (the sweep's per-group quantizers, one evaluation each) or step-search (LAPQ's whole-model search per plan).")
    var measurement: PlanMeasurementMode = .composed

    @Flag(name: .customLong("search-chosen"), help: "Also run LAPQ's whole-model step search on the chosen plan (composed measurement) and refine from it when it fits the calibration data better than the composed quantizers (slower).")
    var searchChosen = false

    @Flag(name: .customLong("no-refine"), help: "Skip the joint refinement (bias correction + Powell over all steps) of the chosen plan.")
    var noRefine = false

    @Option(name: .customLong("refine-evaluations"), help: "Loss evaluations allowed to the joint refinement.")
    var refineEvaluations = PlanRequest.Refinement.defaultMaxEvaluations

    @Option(name: .customLong("refine-patience"), help: "Stop the refinement after this many evaluations without a better loss on its held-out samples (default: \(PlanRequest.Refinement.defaultPatience), or \(PlanRequest.Refinement.cheapPassPatience) where a pass over the fit samples costs at most 10 GMAC; 0: use every --refine-evaluations).")
    var refinePatience: Int?

    @Option(name: .customLong("refine-order"), help: "Order of the refinement's Powell coordinates: graph (the first layers first) or cheapest-first (the steps with the fewest nodes downstream first: faster, and on small models a better fit of the calibration data that validated worse in two of eight runs). Default: cheapest-first when one pass over the fit samples costs more than 10 GMAC, else graph.")
    var refineOrder: StepSearch.CoordinateOrder?

    @Flag(name: .customLong("no-activation-cache"), help: "Run every evaluation in full instead of re-running only what changed (for benchmarks).")
    var noActivationCache = false

    @Flag(name: .customLong("keep-first-last"), help: "Keep the first and last quantized layers in FP32.")
    var keepFirstLast = false

    @Option(name: .customLong("batch-size"), help: "Samples per forward pass.")
    var batchSize: Int?

    @Option(name: .customLong("calib-samples"), help: "Use only the first N calibration samples (default: all).")
    var calibSamples: Int?

    @Option(name: .customLong("cache-dir"), help: "Where sensitivity tables are kept.")
    var cacheDir = ".mpq-cache"

    @Option(name: .customLong("output-dir"), help: "Where plan.json and the Pareto files go.")
    var outputDir = "."

    @Option(help: "A project file (default: ./mpq.json when present).")
    var project: String?

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(name: .customLong("measure-missing"), help: "When shard files of `mpq sensitivity --shard` lack groups, measure them here instead of stopping.")
    var measureMissingShards = false

    func validate() throws {
        if let tieTolerance, !(tieTolerance >= 0 && tieTolerance < 1) {
            throw ValidationError("--tie-tolerance must be in [0, 1), got \(tieTolerance)")
        }
        guard proposals >= 1, proposals <= 100 else { throw ValidationError("--proposals must be between 1 and 100, got \(proposals)") }
        guard paretoPoints >= 0 else { throw ValidationError("--pareto-points must be 0 or more") }
        try SettingCheck.batchSize(batchSize, source: "--batch-size")
        try SettingCheck.positive(calibSamples, source: "--calib-samples")
        try SettingCheck.positive(refineEvaluations, source: "--refine-evaluations")
        _ = try SettingCheck.threads(threads)
    }

    func run() throws {
        var renderer = PlanEventRenderer()
        let planRequest = try request()
        Interruption.announce(keeping: "the sensitivity groups and plans", in: planRequest.cacheDirectory)
        defer { Interruption.clear() }
        let pipeline = try PlanPipeline(request: planRequest) { renderer.render($0) }
        FixedBatchNotice.say(graph: pipeline.prepared.graph,
                             requested: batchSize ?? (planRequest.batchSize == 256 ? nil : planRequest.batchSize))
        let result = try pipeline.run()
        try result.write()
        let file = PlanFile(result: result)
        if json {
            print(try JSONOutput.encode(file))
        } else {
            file.printText()
        }
    }
}
