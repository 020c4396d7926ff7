import ArgumentParser
import Foundation
import MPQKernels
import MPQLAPQ
import MPQPlanning
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
    var optimizer = StepSearch.JointOptimizer.powell

    @Option(name: .customLong("max-evaluations"), help: "Loss evaluations allowed.")
    var maxEvaluations = PlanRequest.Refinement.defaultMaxEvaluations

    @Option(help: "Stop after this many evaluations without a better loss on the held-out samples (default: \(PlanRequest.Refinement.defaultPatience), or \(PlanRequest.Refinement.cheapPassPatience) where a pass over the fit samples costs at most 10 GMAC; 0: use every --max-evaluations).")
    var patience: Int?

    @Option(help: "Order of Powell's coordinates: graph or cheapest-first (default: cheapest-first when one pass over the fit samples costs more than 10 GMAC, else graph).")
    var order: StepSearch.CoordinateOrder?

    @Flag(name: .customLong("no-bias-correction"), help: "Refine the steps only.")
    var noBiasCorrection = false

    @Option(name: .shortAndLong, help: "Where to write the refined plan (default: overwrite the input).")
    var output: String?

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        try SettingCheck.positive(maxEvaluations, source: "--max-evaluations")
        try SettingCheck.nonNegative(patience, source: "--patience")
        _ = try SettingCheck.threads(threads)
    }

    func run() throws {
        if let threads = try SettingCheck.threads(threads) { KernelThreads.count = threads }
        var file = try PlanFile.load(plan)
        guard !file.calib.isEmpty, let lossKind = CalibrationLoss(name: file.loss) else {
            throw UsageProblem("\(plan) has no measured steps or calibration data; run `mpq plan` again without --no-measure")
        }
        let graph = try LoadedModel(path: file.model).graph.withExplicitBiases()
        try file.validate(against: graph, path: plan)
        try SettingCheck.batchSize(file.batchSize, source: "batchSize in \(plan)")
        try SettingCheck.positive(file.calibSamples, source: "calibSamples in \(plan)")
        // The samples the plan was made with: a limit on them (`--calib-samples`) applies here too.
        let all = try LabelledData(data: file.calib, labels: file.labels, graph: graph, maxSamples: file.calibSamples)
        let calibration = file.calibSamples.map { all.prefix($0) } ?? all
        var session = try CalibrationSession(graph: graph, inputs: calibration.inputs, batchSize: file.batchSize)
        let quantizers = try file.tensors.map { try ExportCommand.quantizer(from: $0) }
        let settings = PlanRequest.Refinement(optimizer: optimizer, maxEvaluations: maxEvaluations, biasCorrection: !noBiasCorrection,
                                              patience: .init(count: patience), coordinateOrder: order)
        var progress: Progress? = nil
        let refined = try JointRefinement(settings, lossKind: lossKind)
            .refine(quantizers, calibration: calibration, session: &session, batchSize: file.batchSize) { done, total in
                if progress == nil { progress = Progress(label: "refining", total: total) }
                progress?.update(done, of: total)
            }
        let groups = Dictionary(file.tensors.map { ($0.name, $0.group) }, uniquingKeysWith: { a, _ in a })
        file.formatVersion = PlanFile.currentFormatVersion
        file.refinement = refined.report
        file.tensors = refined.records { groups[$0] ?? nil }
        file.measuredLoss = refined.report.lossAfter
        file.correctedBiases = refined.correctedBiases
        let destination = output ?? plan
        try JSONOutput.write(file, to: destination)
        let r = refined.report
        print(String(format: "calibration loss %.6f -> %.6f with bias correction -> %.6f after %@ (%d evaluations, %.1f s, %@); wrote %@",
                     r.lossBefore, r.lossAfterBiasCorrection, r.lossAfter, optimizer.rawValue, r.evaluations, r.seconds,
                     r.heldOutGainText ?? "no held-out samples", destination))
    }
}
