// Forward-pass throughput of the mpq executor, for comparison with ONNX Runtime
// (benchmarks/forward_throughput.py runs both side by side). Build in release:
//   swift run -c release mpq-benchmark MODEL --batch 8 --threads 1 [--iterations 10] [--json]
//       [--input-shape NAME=D0,D1,...]   (repeatable; for inputs with non-batch symbolic dimensions)
//       [--sub-batch N]   (samples per sub-batch; 0: the whole batch as one plan)
// Float inputs are uniform in [-1, 1]; int64 inputs are 1 when their name contains "mask", 0 when it
// contains "type" (token type ids), else
// uniform in [0, --int-max) (default 100, valid token ids for any vocabulary); bool inputs are true.
import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQONNX

struct Arguments {
    var model = ""
    var batch = 8
    var threads = 1
    var iterations = 10
    var warmup = 2
    var json = false
    var profile = false
    var profileSteps = false
    var shapes: [String: [Int]] = [:]
    var intMax = 100
    var gemm: [Int] = []
    var conv: [[Int]] = []
    var attention = false
    /// Sub-batch size (nil: `SubBatchPlan`'s own; 0: run the batch whole, as one `ExecutionPlan`).
    var subBatch: Int? = nil

    init(_ args: [String]) {
        var i = 0
        func next() -> String { i += 1; return i < args.count ? args[i] : "" }
        while i < args.count {
            switch args[i] {
            case "--batch": batch = Int(next()) ?? batch
            case "--threads": threads = Int(next()) ?? threads
            case "--iterations": iterations = Int(next()) ?? iterations
            case "--warmup": warmup = Int(next()) ?? warmup
            case "--json": json = true
            case "--profile": profile = true
            case "--profile-steps": profileSteps = true
            case "--sub-batch": subBatch = Int(next())
            case "--int-max": intMax = Int(next()) ?? intMax
            case "--gemm": gemm = next().split(separator: ",").compactMap { Int($0) }
            case "--attention": attention = true
            case "--conv": conv = next().split(separator: ";").map { $0.split(separator: ",").compactMap { Int($0) } }
            case "--input-shape":
                let spec = next().split(separator: "=", maxSplits: 1)
                if spec.count == 2 { shapes[String(spec[0])] = spec[1].split(separator: ",").compactMap { Int($0) } }
            default: model = args[i]
            }
            i += 1
        }
    }
}

/// FP32 peak of one core: full-width AVX-512 FMA where the CPU has AVX-512 (ONNX Runtime's MLAS SGEMM measured
/// 220 GFLOP/s on one thread at 2048³ on such a machine), half that with 256-bit FMA only (AVX2 machines of the
/// same family, where every GEMM here measured 83–90 GFLOP/s).
let peakPerCore = GemmBackend.cpuHasAVX512F ? 230.0 : 115.0

let args = Arguments(Array(CommandLine.arguments.dropFirst()))
if !args.conv.isEmpty {
    timeConv(args.conv, threads: args.threads)
    exit(0)
}
if args.attention {
    timeAttention(threads: args.threads)
    exit(0)
}
if !args.gemm.isEmpty {
    timeGemm(args.gemm, threads: args.threads)
    exit(0)
}
guard !args.model.isEmpty else {
    FileHandle.standardError.write(Data("usage: mpq-benchmark MODEL [--batch N] [--threads N] [--iterations N] [--json] [--profile] [--profile-steps] | --gemm M,N,K | --conv SPECS | --attention\n".utf8))
    exit(64)
}
// The allocation policy of the `mpq` executable, so the figures are the product's.
AllocationPolicy.reuseLargeBuffers()
do {
    KernelThreads.count = args.threads
    let model = try ONNXModel.load(contentsOf: URL(fileURLWithPath: args.model))
    let (graph, _) = try model.optimizedGraph()
    let shapes = args.shapes.isEmpty ? try ONNXModel.concreteShapes(of: graph, batch: args.batch).get() : args.shapes
    // `--sub-batch 0` runs the whole batch as one plan, without compiling sub-batch plans.
    let split = args.subBatch == 0 ? nil : try SubBatchPlan(graph: graph, inputShapes: shapes, maxSamples: args.subBatch)
    let plan = try split?.whole ?? ExecutionPlan(graph: graph, inputShapes: shapes)
    // A fixed-seed generator: SystemRandomNumberGenerator's getrandom calls dominated profiles.
    var generator = SplitMix64(seed: 1)
    var inputs: [String: Tensor] = [:]
    for input in graph.inputs {
        let shape = shapes[input.name] ?? []
        let n = Tensor.count(of: shape)
        switch input.elementType ?? .float32 {
        case .float32: inputs[input.name] = Tensor(shape: shape, floats: (0..<n).map { _ in Float.random(in: -1...1, using: &generator) })
        case .int64:
            let name = input.name.lowercased()
            let fixed: Int64? = name.contains("mask") ? 1 : (name.contains("type") ? 0 : nil)
            inputs[input.name] = Tensor(shape: shape, int64s: (0..<n).map { _ in fixed ?? Int64.random(in: 0..<Int64(args.intMax), using: &generator) })
        case .bool: inputs[input.name] = Tensor(shape: shape, bools: [Bool](repeating: true, count: n))
        }
    }
    // The product's forward pass (sub-batches side by side).
    let subBatches = split?.subBatchCount ?? 1
    let forward: () throws -> Void = split.map { split in { _ = try split.run(inputs) } } ?? { _ = try plan.run(inputs) }
    for _ in 0..<args.warmup { try forward() }
    var times: [Double] = []
    // MPQ_BENCH_TRACE=1 prints each timed pass's milliseconds (to see how many passes a run takes to reach speed).
    let trace = ProcessInfo.processInfo.environment["MPQ_BENCH_TRACE"] != nil
    for _ in 0..<args.iterations {
        let start = DispatchTime.now().uptimeNanoseconds
        try forward()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        if trace { FileHandle.standardError.write(Data(String(format: "%.2f ", times.last! * 1000).utf8)) }
    }
    let median = times.sorted()[times.count / 2]
    let macs = plan.layerStatistics().reduce(0) { $0 + $1.macs }
    let gflops = 2 * Double(macs) / median / 1e9
    let peak = peakPerCore * Double(args.threads)
    if args.profile {
        // Time per op type over a few runs (sequential timing of each node).
        var perOp: [String: Double] = [:]
        for _ in 0..<3 {
            for (op, seconds) in try plan.profile(inputs) { perOp[op, default: 0] += seconds / 3 }
        }
        let total = perOp.values.reduce(0, +)
        FileHandle.standardError.write(Data("  (\(plan.channelBlockedValueCount) values kept channel-blocked)\n".utf8))
        for (op, s) in perOp.sorted(by: { $0.value > $1.value }) {
            FileHandle.standardError.write(Data(String(format: "  %-20@ %8.2f ms  %5.1f%%\n", op as NSString, s * 1000, 100 * s / total).utf8))
        }
    }
    if args.profileSteps {
        // Time per step (median of five sequential runs), in execution order.
        var runs: [[ExecutionPlan.StepTime]] = []
        for _ in 0..<5 { runs.append(try plan.stepTimes(inputs)) }
        let medians = runs[0].indices.map { i in runs.map { $0[i].seconds }.sorted()[2] }
        let total = medians.reduce(0, +)
        for (step, s) in zip(runs[0], medians) {
            FileHandle.standardError.write(Data(String(format: "  %8.3f ms %5.1f%%  %-18@ %-24@ %@\n", s * 1000, 100 * s / total,
                                                       step.opType as NSString, "\(step.outputShape)" as NSString, step.node as NSString).utf8))
        }
    }
    // Peak resident set of the process (model load, warm-up and timed passes), in MiB.
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let maxRSS = Double(usage.ru_maxrss) / 1024
    if args.json {
        print("{\"samples_per_s\": \(Double(args.batch) / median), \"ms_per_batch\": \(median * 1000), \"batch\": \(args.batch), \"gflops\": \(gflops), \"peak_gflops\": \(peak), \"max_rss_mb\": \(maxRSS), \"sub_batches\": \(subBatches)}")
    } else {
        print(String(format: "mpq: %.1f samples/s, %.2f ms/batch (batch %d, %d threads, %d sub-batches), %.1f GFLOP/s = %.0f%% of %.0f GFLOP/s peak",
                     Double(args.batch) / median, median * 1000, args.batch, args.threads, subBatches, gflops, 100 * gflops / peak, peak))
    }
} catch {
    FileHandle.standardError.write(Data("mpq-benchmark: error: \(error)\n".utf8))
    exit(1)
}

/// SplitMix64: fast, deterministic inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
