// Loss evaluations per second of a LAPQ-style coordinate search, with and without the activation cache.
//
// Every weight and activation is quantized (W4A4 by default, per-tensor, min-max steps). Each timed
// evaluation changes ONE quantizer's step multiplier, as a Powell coordinate line search does, and
// produces the model outputs on all calibration data:
//   (a) cached: CalibrationSession.evaluate(settings, from: state) re-runs only the nodes downstream
//       of the changed tensor, reading everything else from the cached activations of `state`;
//   (b) full: ExecutionPlan.run(batch, hooks: all quantizers) on every batch.
// Build in release:
//   swift run -c release lapq-benchmark MODEL [--calib X.npy] [--samples 16] [--batch-size 256]
//       [--evaluations 100] [--bits W4A4] [--threads N] [--json]
//   swift run -c release lapq-benchmark --lp-search [VALUES]   (see LpSearchTiming.swift)
// Without --calib, --samples random inputs (uniform in [-1, 1]) of the model's input shape are used.
import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQONNX
import MPQQuantization

struct Arguments {
    var model = ""
    var calib: String?
    var samples = 16
    var batchSize = 256
    var evaluations = 100
    var bits = "W4A4"
    var threads: Int?
    var json = false

    init(_ args: [String]) {
        var i = 0
        func next() -> String { i += 1; return i < args.count ? args[i] : "" }
        while i < args.count {
            switch args[i] {
            case "--calib": calib = next()
            case "--samples": samples = Int(next()) ?? samples
            case "--batch-size": batchSize = Int(next()) ?? batchSize
            case "--evaluations": evaluations = Int(next()) ?? evaluations
            case "--bits": bits = next()
            case "--threads": threads = Int(next())
            case "--json": json = true
            default: model = args[i]
            }
            i += 1
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func log(_ text: String) { FileHandle.standardError.write(Data("\(text)\n".utf8)) }

if CommandLine.arguments.dropFirst().first == "--lp-search" {
    let count = CommandLine.arguments.dropFirst(2).first.flatMap { Int($0) } ?? 64 * 96 * 112 * 112
    do { try lpSearchTiming(count: count) } catch { log("lapq-benchmark: \(error)"); exit(1) }
    exit(0)
}
let args = Arguments(Array(CommandLine.arguments.dropFirst()))
guard !args.model.isEmpty, let bits = BitWidths(args.bits), args.evaluations > 0 else {
    log("usage: lapq-benchmark MODEL [--calib X.npy] [--samples N] [--batch-size N] [--evaluations N] [--bits W4A4] [--threads N] [--json]")
    exit(64)
}
// The allocation policy of the `mpq` executable, so the figures are the product's.
AllocationPolicy.reuseLargeBuffers()
do {
    if let threads = args.threads { KernelThreads.count = threads }
    let model = try ONNXModel.load(contentsOf: URL(fileURLWithPath: args.model))
    let (graph, _) = try model.optimizedGraph()
    var inputs: [String: Tensor] = [:]
    if let calib = args.calib {
        inputs[graph.inputs[0].name] = try NumpyArray(contentsOf: URL(fileURLWithPath: calib)).tensor
    } else {
        let shapes = try ONNXModel.concreteShapes(of: graph, batch: args.samples).get()
        var generator = SystemRandomNumberGenerator()
        inputs = shapes.mapValues { shape in
            Tensor(shape: shape, floats: (0..<Tensor.count(of: shape)).map { _ in Float.random(in: -1...1, using: &generator) })
        }
    }
    let sampleCount = inputs.values.first!.shape[0]

    // FP32 pass with every activation cached.
    var t = now()
    var session = try CalibrationSession(graph: graph, inputs: inputs, batchSize: args.batchSize)
    let fp32Seconds = now() - t

    // Min-max quantizers for every weight and activation the default policy quantizes.
    let targets = try QuantizationRecipe(bits: bits).targets(in: graph)
    var quantizers: [TensorQuantizer] = []
    for target in targets {
        let values: [Float]
        if target.role == .weight {
            guard let v = graph.initializers[target.name]?.floats else { throw StepSearchError.notAConstant(target.name) }
            values = v
        } else {
            guard let v = session.referenceValue(target.name)?.floats else { throw StepSearchError.missingActivation(target.name) }
            values = v
        }
        quantizers.append(TensorQuantizer(name: target.name, role: target.role, axis: nil, grid: target.grid,
                                          base: try LpClipping.minMax(values, grid: target.grid), layer: target.layer))
    }
    let weights = quantizers.filter { $0.role == .weight }.count
    let biases = BiasQuantization(graph: graph)
    t = now()
    let start = try session.evaluate(StepSearch.settings(quantizers, biases: biases))
    let firstQuantizedSeconds = now() - t

    // The evaluations: quantizer k % count gets multiplier 0.9, 0.95, 1.05, 1.1, ... (one change each).
    let deltas = [0.9, 0.95, 1.05, 1.1, 0.8, 1.2]
    let changes: [(Int, Double)] = (0..<args.evaluations).map { k in (k % quantizers.count, deltas[(k / quantizers.count) % deltas.count]) }
    func multipliers(_ change: (Int, Double)) -> [Double] {
        var m = [Double](repeating: 1, count: quantizers.count)
        m[change.0] = change.1
        return m
    }

    // (a) cached re-execution.
    let before = session.statistics
    var cachedOutputs: [[String: Tensor]] = []
    t = now()
    for (k, change) in changes.enumerated() {
        let state = try session.evaluate(StepSearch.settings(quantizers, multipliers: multipliers(change), biases: biases), from: start)
        if k < 3 { cachedOutputs.append(state.outputs[0]) }
    }
    let cachedSeconds = now() - t
    let nodesRun = session.statistics.nodesRun - before.nodesRun
    let nodesTotal = session.statistics.nodesTotal - before.nodesTotal

    // (b) full forward passes with every hook, per batch.
    let plans = try session.batches.map { try ExecutionPlan(graph: graph, inputShapes: $0.mapValues(\.shape)) }
    var maxDifference: Float = 0
    t = now()
    for (k, change) in changes.enumerated() {
        var hooks = TensorHooks()
        for (name, s) in StepSearch.settings(quantizers, multipliers: multipliers(change), biases: biases) { hooks[name] = s.transform }
        for (b, (plan, batch)) in zip(plans, session.batches).enumerated() {
            let result = try plan.run(batch, hooks: hooks)
            if k < 3, b == 0, let ref = cachedOutputs[k][graph.outputs[0].name]?.floats,
               let out = result.outputs[graph.outputs[0].name]?.floats {
                maxDifference = max(maxDifference, zip(ref, out).map { abs($0 - $1) }.max() ?? 0)
            }
        }
    }
    let fullSeconds = now() - t

    let cachedRate = Double(args.evaluations) / cachedSeconds
    let fullRate = Double(args.evaluations) / fullSeconds
    let fraction = Double(nodesRun) / Double(max(nodesTotal, 1))
    let name = URL(fileURLWithPath: args.model).lastPathComponent
    if args.json {
        let fields: [String] = [
            "\"model\": \"\(name)\"", "\"samples\": \(sampleCount)", "\"batches\": \(session.batches.count)",
            "\"nodes\": \(graph.nodes.count)", "\"quantizers\": \(quantizers.count)", "\"weights\": \(weights)",
            "\"evaluations\": \(args.evaluations)", "\"cached_evals_per_s\": \(cachedRate)", "\"full_evals_per_s\": \(fullRate)",
            "\"speedup\": \(cachedRate / fullRate)", "\"nodes_rerun_fraction\": \(fraction)",
            "\"fp32_cache_fill_s\": \(fp32Seconds)", "\"first_quantized_eval_s\": \(firstQuantizedSeconds)",
            "\"max_abs_output_difference\": \(maxDifference)",
        ]
        print("{" + fields.joined(separator: ", ") + "}")
    } else {
        print("\(name): \(sampleCount) samples in \(session.batches.count) batch(es), \(graph.nodes.count) nodes, "
              + "\(quantizers.count) quantizers (\(weights) weights) at \(bits), \(args.evaluations) one-quantizer evaluations")
        print(String(format: "  cached (session.evaluate from state): %8.2f evaluations/s", cachedRate))
        print(String(format: "  full   (ExecutionPlan.run, all hooks): %8.2f evaluations/s", fullRate))
        print(String(format: "  speed-up %.2fx; nodes re-run %.1f%% of a full pass", cachedRate / fullRate, 100 * fraction))
        print(String(format: "  FP32 cache fill %.2f s; first quantized evaluation %.2f s; max |cached - full| on outputs %.2g",
                     fp32Seconds, firstQuantizedSeconds, maxDifference))
    }
} catch {
    log("lapq-benchmark: \(error)")
    exit(1)
}
