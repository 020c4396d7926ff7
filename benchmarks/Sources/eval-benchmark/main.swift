// Quantized loss evaluation against an FP32 forward pass of the same batch, in one run.
//
// The planner measures every proposal with one quantized evaluation over the calibration data (all
// weights and activations fake-quantized, as a composed plan is), so its cost relative to a plain FP32
// forward pass is what this prints (target ≤ 1.5). Also a one-quantizer re-run from cached activations,
// as the sweep and Powell's line searches do. Build in release:
//   swift run -c release eval-benchmark MODEL --calib X.npy [--batch-size 256] [--samples N] [--bits W8A8] [--repeat 20] [--threads N]
//                                       [--activation-budget-mb MB]   (the calibration session's activation budget)
//                                       [--only fp32|measure|caching]  (repeat just that evaluation, for `perf record`)
//                                       [--only quantizer]  (the fake-quantization pass alone, per value, hot and cold)
// Multi-input models (MiniLM) take --calib X.npz.
import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQONNX
import MPQQuantization

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func log(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }

/// Each round times every body once, in order (after one warm-up call of each): `repeats` rows of timings.
func interleaved(_ repeats: Int, _ bodies: [() throws -> Void]) throws -> [[Double]] {
    for body in bodies { try body() }
    return try (0..<repeats).map { _ in
        try bodies.map { body in
            let t = now()
            try body()
            return now() - t
        }
    }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The median of `repeats` timings of `body` (after one warm-up call).
func median(_ repeats: Int, _ body: @escaping () throws -> Void) throws -> Double {
    median(try interleaved(repeats, [body]).map { $0[0] })
}

var model = "", calib = "", bitsText = "W8A8", batchSize = 256, repeats = 20
var sampleCount: Int?
var threads: Int?
var activationBudget: Int?
var only: String?
var rest = Array(CommandLine.arguments.dropFirst())
while !rest.isEmpty {
    let a = rest.removeFirst()
    func value() -> String { rest.isEmpty ? "" : rest.removeFirst() }
    switch a {
    case "--calib": calib = value()
    case "--bits": bitsText = value()
    case "--batch-size": batchSize = Int(value()) ?? batchSize
    case "--repeat": repeats = Int(value()) ?? repeats
    case "--samples": sampleCount = Int(value())
    case "--threads": threads = Int(value())
    case "--activation-budget-mb": activationBudget = Int(value()).map { $0 << 20 }
    case "--only": only = value()
    default: model = a
    }
}
guard !model.isEmpty, !calib.isEmpty, let bits = BitWidths(bitsText) else {
    log("usage: eval-benchmark MODEL --calib X.npy|X.npz [--batch-size 256] [--samples N] [--bits W8A8] [--repeat 20] [--threads N] [--activation-budget-mb MB]")
    exit(64)
}
if let only, !["fp32", "measure", "caching", "quantizer"].contains(only) {
    log("eval-benchmark: --only takes fp32, measure, caching or quantizer, not '\(only)'")
    exit(64)
}
AllocationPolicy.reuseLargeBuffers()
if let threads { KernelThreads.count = threads }
if only == "quantizer" {
    try printFakeQuantizationPass(repeats: repeats)
    exit(0)
}
do {
    let (graph, _) = try ONNXModel.load(contentsOf: URL(fileURLWithPath: model)).optimizedGraph()
    var inputs: [String: Tensor] = [:]
    if calib.hasSuffix(".npz") {
        let archive = try NumpyArchive(contentsOf: URL(fileURLWithPath: calib))
        for input in graph.inputs { inputs[input.name] = try archive.array(named: input.name).tensor }
    } else {
        inputs[graph.inputs[0].name] = try NumpyArray(contentsOf: URL(fileURLWithPath: calib)).tensor
    }
    let samples = inputs.values.first!.shape[0]
    let size = min(batchSize, samples)
    // One batch by default; with --samples, that many samples in batches of --batch-size.
    let count = min(sampleCount ?? size, samples)
    // Padded sentences stay whole (`trimsPadding: false`): the FP32 forward pass it is compared with runs them whole.
    var session = try CalibrationSession(graph: graph, inputs: inputs.mapValues { $0.slice(axis0: 0..<count) }, batchSize: size,
                                     activationBudget: activationBudget ?? CalibrationSession.defaultActivationBudget,
                                     trimsPadding: false)

    // MMSE quantizers for every tensor the default policy quantizes.
    var quantizers: [TensorQuantizer] = []
    for target in try QuantizationRecipe(bits: bits).targets(in: graph) {
        let value = target.role == .weight ? graph.initializers[target.name] : session.referenceValue(target.name)
        guard let values = value?.floats else { throw StepSearchError.missingActivation(target.name) }
        let parameters = target.axis.map { axis in try? LpClipping(p: 2, grid: target.grid).perChannel(values, shape: value!.shape, axis: axis).parameters }
            ?? (try? LpClipping(p: 2, grid: target.grid)(values).parameters)
        guard let parameters else { continue }
        quantizers.append(TensorQuantizer(name: target.name, role: target.role, axis: target.axis, grid: target.grid,
                                          base: parameters, layer: target.layer))
    }
    let settings = StepSearch.settings(quantizers, biases: BiasQuantization(graph: graph))

    let evaluated = inputs.mapValues { $0.slice(axis0: 0..<count) }
    let runner = try BatchRunner(graph: graph, sampleShapes: evaluated.mapValues { Array($0.shape.dropFirst()) },
                                 sampleCount: count, batchSize: size)
    if let only {
        let body: () throws -> Void = switch only {
        case "fp32": { _ = try runner.run(evaluated) }
        case "measure": { _ = try session.outputs(settings) }
        default: { _ = try session.evaluate(settings) }
        }
        print(String(format: "%@: %.2f ms (median of %d)", only, try median(repeats, body) * 1e3, repeats))
        exit(0)
    }
    // Interleaved: each round times all three once, so a load change on a shared machine moves them together;
    // the ratios are medians of each round's own ratio.
    let rounds = try interleaved(repeats, [{ _ = try runner.run(evaluated) }, { _ = try session.outputs(settings) },
                                           { _ = try session.evaluate(settings) }])
    let (fp32, composed, cachedFull) = (median(rounds.map { $0[0] }), median(rounds.map { $0[1] }), median(rounds.map { $0[2] }))
    let composedRatio = median(rounds.map { $0[1] / $0[0] }), cachedRatio = median(rounds.map { $0[2] / $0[0] })
    let start = try session.evaluate(settings)
    let last = quantizers.count / 2
    var changed = quantizers
    changed[last].base.scales = changed[last].base.scales.map { $0 * 1.05 }
    let oneChanged = StepSearch.settings(changed, biases: BiasQuantization(graph: graph))
    let rerun = try median(repeats) { _ = try session.evaluate(oneChanged, from: start) }

    let name = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
    print("\(name): \(count) samples in batches of \(size) (calibration session: \(session.batches.count) side by side), \(quantizers.count) quantizers at \(bitsText), threads \(KernelThreads.count), median of \(repeats) interleaved rounds")
    print(String(format: "  FP32 forward                          %8.2f ms", fp32 * 1e3))
    print(String(format: "  quantized evaluation (plan measure)   %8.2f ms   ratio %.2f", composed * 1e3, composedRatio))
    print(String(format: "  quantized evaluation, caching values  %8.2f ms   ratio %.2f", cachedFull * 1e3, cachedRatio))
    print(String(format: "  one quantizer changed (cached rerun)  %8.2f ms   ratio %.2f", rerun * 1e3, rerun / fp32))
    try printFakeQuantizationPass(repeats: repeats)
} catch {
    log("eval-benchmark: \(error)")
    exit(1)
}
