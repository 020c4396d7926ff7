import ArgumentParser
import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQPlanning
import MPQQuantization

/// `mpq quantize`: uniform-precision post-training quantization with the LAPQ step search.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a model at one precision (e.g. W4A4) and report FP32 vs quantized loss and accuracy.",
        discussion: """
        Methods: minmax (no clipping), mmse (Lp clipping, p = 2), lapq-layerwise (best p of the sweep), \
        lapq-quadratic (p* from a quadratic fit of the sweep), lapq (quadratic start + joint Powell/BOBYQA over all steps).
        Quantized tensors: the weights of every Conv/Gemm/MatMul and the activations they consume and produce \
        (after a directly following activation function); graph outputs stay FP32.
        """
    )

    @Argument(help: "The ONNX model.")
    var model: String

    @Option(help: "Calibration inputs (.npy, .npz, or NAME=X.npy).")
    var calib: [String]

    @Option(help: "Calibration labels (.npy); enables cross-entropy and accuracy.")
    var labels: String?

    @Option(help: "Validation inputs.")
    var val: [String] = []

    @Option(name: .customLong("val-labels"), help: "Validation labels (.npy).")
    var valLabels: String?

    @Option(help: "Bit-widths, e.g. W4A4, W8A8, W4A8.")
    var bits: String

    @Option(help: "minmax | mmse | lapq-layerwise | lapq-quadratic | lapq")
    var method = QuantizeMethod.lapq

    @Option(help: "Joint optimizer for --method lapq: powell | bobyqa.")
    var optimizer = StepSearch.JointOptimizer.powell

    @Option(name: .customLong("init"),
            help: "Starting steps of the joint search for --method lapq: minmax | mmse | lapq-layerwise | lapq-quadratic (default).")
    var initialization = StepSearch.Initialization.quadratic

    @Option(help: "Calibration loss (default: cross-entropy with labels, kl without).")
    var loss: CalibrationLoss?

    @Flag(name: .customLong("per-channel"), help: "Per-channel weight steps.")
    var perChannel = false

    @Flag(name: .customLong("bias-correction"), help: "Fold each layer's expected output shift into its bias.")
    var biasCorrection = false

    @Flag(name: .customLong("keep-first-last"), help: "Keep the first and last quantized layers in FP32.")
    var keepFirstLast = false

    @Flag(name: .customLong("mid-rise"), help: "The LAPQ paper's mid-rise weight grid (per-tensor; not deployable).")
    var midRise = false

    @Option(help: "Fraction of the calibration samples held out to stop the joint search early (0: fit all, as the paper does; otherwise calibration figures are on the fitted samples).")
    var holdout = 0.0

    @Option(name: .customLong("max-evaluations"), help: "Loss evaluations allowed to the joint optimizer.")
    var maxEvaluations = 2000

    @Option(name: .customLong("powell-iterations"), help: "Powell sweeps.")
    var powellIterations = 1

    @Option(name: .customLong("batch-size"), help: "Samples per forward pass (default 256; a model that fixes its batch size runs batches of that size).")
    var batchSize: Int?

    @Option(name: .shortAndLong, help: "Write the steps (scales, zero points, grids) as JSON here.")
    var output = "steps.json"

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard BitWidths(bits) != nil else { throw ValidationError("--bits '\(bits)' should look like W4A8, with 2 to 16 bits each") }
        guard (0..<1).contains(holdout) else { throw ValidationError("--holdout must be in [0, 1), got \(holdout)") }
        try SettingCheck.batchSize(batchSize, source: "--batch-size")
        try SettingCheck.positive(maxEvaluations, source: "--max-evaluations")
        _ = try SettingCheck.threads(threads)
        if valLabels != nil && val.isEmpty { throw ValidationError("--val-labels needs --val") }
    }

    func run() throws {
        if let threads = try SettingCheck.threads(threads) { KernelThreads.count = threads }
        let loaded = try LoadedModel(path: model)
        FixedBatchNotice.say(graph: loaded.graph, requested: batchSize)
        let batchSize = self.batchSize ?? 256
        let graph = biasCorrection ? loaded.graph.withExplicitBiases() : loaded.graph
        let allCalibration = try LabelledData(data: calib, labels: labels, graph: graph)
        // With --holdout, the search fits the first samples and stops early on the rest.
        let fitCount = holdout > 0 ? max(1, Int((Double(allCalibration.sampleCount) * (1 - holdout)).rounded())) : allCalibration.sampleCount
        var calibration = allCalibration
        calibration.inputs = allCalibration.inputs.mapValues { $0.slice(axis0: 0..<fitCount) }
        calibration.sampleCount = fitCount
        calibration.labels = allCalibration.labels.map { Array($0.prefix(fitCount)) }
        let lossKind = loss ?? CalibrationLoss.defaultLoss(labelsAvailable: calibration.labels != nil)
        if lossKind.needsLabels && calibration.labels == nil {
            throw UsageProblem("--loss cross-entropy needs --labels")
        }
        let bitWidths = BitWidths(bits)!
        let recipe = QuantizationRecipe(
            bits: bitWidths,
            policy: QuantizationPolicy(keepFirstAndLastLayersFloat: keepFirstLast, perChannelWeights: perChannel),
            midRiseWeights: midRise)
        let targets = try recipe.targets(in: graph)
        log("calibration loss: \(lossKind.name)\(calibration.labels == nil ? " (no labels: against the FP32 outputs)" : "")")
        log("quantizing \(targets.filter { $0.role == .weight }.count) weights and \(targets.filter { $0.role == .activation }.count) activations at \(bitWidths)")

        var session = try CalibrationSession(graph: graph, inputs: calibration.inputs, batchSize: batchSize)
        var probe = try CalibrationSession(graph: graph, inputs: CalibrationSession.probeInputs(session), batchSize: batchSize)
        let outputName = graph.outputs[0].name
        let objective = CalibrationObjective(kind: lossKind, session: session, labels: calibration.labels)
        var options = StepSearch.Options()
        if let initialization = method.initialization {
            options.initialization = initialization
            options.joint = nil
        } else {
            options.initialization = initialization
            options.joint = optimizer
        }
        options.maxEvaluations = maxEvaluations
        options.maxIterations = powellIterations
        var progress: Progress? = nil
        var stage = ""
        let search = StepSearch(options: options, loss: objective.function) { name, done, total in
            if name != stage { stage = name; progress = Progress(label: name, total: total) }
            progress?.update(done, of: total)
        }
        let corrections = biasCorrection
            ? try BiasCorrectionPlan(graph: graph, session: session, weights: targets.filter { $0.role == .weight }.map(\.name))
            : nil
        let start = Date()
        var held: Holdout? = nil
        if fitCount < allCalibration.sampleCount {
            let heldSession = try CalibrationSession(graph: graph, inputs: allCalibration.inputs.mapValues {
                $0.slice(axis0: fitCount..<allCalibration.sampleCount) }, batchSize: batchSize)
            let heldLabels = allCalibration.labels.map { Array($0.suffix(allCalibration.sampleCount - fitCount)) }
            held = Holdout(session: heldSession, loss: CalibrationObjective(kind: lossKind, session: heldSession, labels: heldLabels).function)
        }
        let result = try search.run(targets, session: &session, probe: &probe, biasCorrection: corrections, holdout: held)
        let seconds = Date().timeIntervalSince(start)

        let settings = StepSearch.settings(result.quantizers, multipliers: result.multipliers, biasCorrection: corrections,
                                           biases: search.biases(in: graph))
        let hooks = TensorHooks(settings)
        let fp32Calib = try Evaluation(outputs: objective.reference, objective: objective)
        let quantCalib = try Evaluation(outputs: CalibrationSession.joinedOutputs(result.state, name: outputName), objective: objective)
        var fp32Val: Evaluation? = nil
        var quantVal: Evaluation? = nil
        if !val.isEmpty {
            let validation = try LabelledData(data: val, labels: valLabels, graph: graph)
            let runner = try BatchRunner(graph: graph, sampleShapes: validation.sampleShapes,
                                         sampleCount: validation.sampleCount, batchSize: batchSize)
            guard let fp32 = try runner.run(validation.inputs)[outputName],
                  let quantized = try runner.run(validation.inputs, hooks: hooks)[outputName] else {
                throw UsageProblem("the model produced no '\(outputName)'")
            }
            let valLoss = loss ?? CalibrationLoss.defaultLoss(labelsAvailable: validation.labels != nil)
            let valObjective = CalibrationObjective(kind: valLoss, outputName: outputName, reference: fp32, labels: validation.labels)
            fp32Val = try Evaluation(outputs: fp32, objective: valObjective)
            quantVal = try Evaluation(outputs: quantized, objective: valObjective)
        }
        let steps = StepsFile(model: model, bits: bitWidths.description, method: method.rawValue,
                              optimizer: options.joint?.rawValue, loss: lossKind.name, perChannel: perChannel,
                              biasCorrection: biasCorrection, midRise: midRise,
                              quantizers: zip(result.quantizers, result.multipliers).map { QuantizerRecord($0, multiplier: $1) },
                              search: result.report)
        try JSONOutput.write(steps, to: output)
        let report = QuantizeReport(model: model, bits: bitWidths.description, method: method.rawValue, loss: lossKind.name,
                                    seconds: seconds, evaluations: session.statistics.evaluations,
                                    calibration: .init(fp32: fp32Calib, quantized: quantCalib),
                                    validation: fp32Val.map { .init(fp32: $0, quantized: quantVal!) },
                                    search: result.report, steps: output)
        Self.lastReport = .success(report)
        if json {
            print(try JSONOutput.encode(report))
        } else {
            report.printText()
        }
    }

    /// The report of the last run in this process (for tests that drive the command in process).
    nonisolated(unsafe) static var lastReport: Result<QuantizeReport, UsageProblem> = .failure(UsageProblem("no run yet"))

    private func log(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }
}
