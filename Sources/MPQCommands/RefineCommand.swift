import ArgumentParser
import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQQuantization

/// `mpq refine plan.json`: LAPQ's joint step (bias correction + Powell or BOBYQA) on a plan's steps.
struct RefineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine",
        abstract: "Refine all step sizes of a plan jointly (bias correction, then Powell or BOBYQA) and update plan.json."
    )

    @Argument(help: "The plan.json written by `mpq plan`.")
    var plan: String

    @Option(help: "Joint optimizer: powell | bobyqa.")
    var optimizer = "powell"

    @Option(name: .customLong("max-evaluations"), help: "Loss evaluations allowed.")
    var maxEvaluations = 400

    @Flag(name: .customLong("no-bias-correction"), help: "Refine the steps only.")
    var noBiasCorrection = false

    @Option(name: .shortAndLong, help: "Where to write the refined plan (default: overwrite the input).")
    var output: String?

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard StepSearch.JointOptimizer(rawValue: optimizer) != nil else {
            throw ValidationError("--optimizer must be powell or bobyqa; got '\(optimizer)'")
        }
        guard maxEvaluations > 0 else { throw ValidationError("--max-evaluations must be positive") }
    }

    func run() throws {
        if let threads { KernelThreads.count = threads }
        var summary = try PlanSummary.load(plan)
        guard !summary.calib.isEmpty, let lossKind = CalibrationLoss(name: summary.loss) else {
            throw UsageProblem("\(plan) has no measured steps or calibration data; run `mpq plan` again without --no-measure")
        }
        let graph = try LoadedModel(path: summary.model).graph.withExplicitBiases()
        let calibration = try LabelledData(data: summary.calib, labels: summary.labels, graph: graph)
        var session = try CalibrationSession(graph: graph, inputs: calibration.inputs, batchSize: summary.batchSize)
        let outputName = graph.outputs[0].name
        let reference = CalibrationSession.joinedOutputs(session.reference, name: outputName)
        let labels = calibration.labels
        let measure = StepSearch(loss: { outputs in
            guard let out = outputs[outputName] else { return .infinity }
            return (try? lossKind.evaluate(out, reference: reference, labels: labels)) ?? .infinity
        })
        let quantizers = try summary.tensors.map { try ExportCommand.quantizer(from: $0) }
        let biases = measure.biases(in: graph)
        let before = measure.loss(of: try session.evaluate(StepSearch.settings(quantizers, biases: biases)), in: session)
        let start = Date()
        var progress: Progress? = nil
        let outcome = try JointRefinement(optimizer: StepSearch.JointOptimizer(rawValue: optimizer) ?? .powell,
                                          maxEvaluations: maxEvaluations, biasCorrection: !noBiasCorrection, lossKind: lossKind)
            .run(quantizers, graph: graph, calibration: calibration, batchSize: summary.batchSize) { done, total in
                if progress == nil { progress = Progress(label: "refining", total: total) }
                progress?.update(done)
            }
        let settings = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                           biases: biases)
        let biasOnly = measure.loss(of: try session.evaluate(StepSearch.settings(outcome.quantizers, biasCorrection: outcome.correction,
                                                                                 biases: biases)), in: session)
        let after = measure.loss(of: try session.evaluate(settings), in: session)
        summary.refinement = .init(lossBefore: before, lossAfterBiasCorrection: biasOnly, lossAfter: after,
                                   evaluations: outcome.evaluations, seconds: Date().timeIntervalSince(start),
                                   validationBefore: nil, validationAfter: nil, biasCorrected: outcome.biasCorrected)
        let groups = Dictionary(summary.tensors.map { ($0.name, $0.group) }, uniquingKeysWith: { a, _ in a })
        summary.tensors = zip(outcome.quantizers, outcome.multipliers).map { QuantizerRecord($0, multiplier: $1, group: groups[$0.name] ?? nil) }
        summary.measuredLoss = after
        summary.correctedBiases = [:]
        // Corrected biases in float; the export puts them on their int32 grid as the simulation did.
        let names = Set(outcome.quantizers.map(\.name))
        let corrected = StepSearch.settings(outcome.quantizers, multipliers: outcome.multipliers, biasCorrection: outcome.correction,
                                            biases: .none)
        for (name, setting) in corrected where !names.contains(name) {
            if let bias = graph.initializers[name] { summary.correctedBiases[name] = setting.transform(bias).floats }
        }
        let destination = output ?? plan
        try JSONOutput.write(summary, to: destination)
        print(String(format: "calibration loss %.6f -> %.6f with bias correction -> %.6f after %@ (%d evaluations, %.1f s, stopped early on held-out samples); wrote %@",
                     before, biasOnly, after, optimizer, outcome.evaluations, Date().timeIntervalSince(start), destination))
    }
}
