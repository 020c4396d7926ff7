import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQONNX
import MPQQuantization
import Testing

/// A committed example model with its calibration and validation data.
struct Example {
    var name: String
    var directory: URL
    var graph: Graph
    var calibration: Tensor
    var validation: Tensor
    var validationLabels: [Int]

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    init(_ name: String) throws {
        self.name = name
        directory = Self.root.appendingPathComponent("examples/\(name)")
        graph = try ONNXModel.load(contentsOf: directory.appendingPathComponent("model.onnx")).optimizedGraph().0
        calibration = try NumpyArray(contentsOf: directory.appendingPathComponent("calib.npy")).tensor
        validation = try NumpyArray(contentsOf: directory.appendingPathComponent("val.npy")).tensor
        validationLabels = try NumpyArray(contentsOf: directory.appendingPathComponent("val_labels.npy")).tensor.asInt64s.map { Int($0) }
    }

    var inputName: String { graph.inputs[0].name }
    var outputName: String { graph.outputs[0].name }

    /// Runs a graph on the validation set, optionally with hooks.
    static func run(_ graph: Graph, _ input: Tensor, hooks: TensorHooks = .none) throws -> Tensor {
        let runner = try BatchRunner(graph: graph, sampleShapes: [graph.inputs[0].name: Array(input.shape.dropFirst())],
                                     sampleCount: input.shape[0], batchSize: 250)
        return try runner.run([graph.inputs[0].name: input], hooks: hooks)[graph.outputs[0].name]!
    }

    /// Quantizers for targets with Lp (p = 2) steps and no joint search, as `mpq quantize --method mmse` does.
    func quantizers(_ targets: [QuantizerTarget]) throws -> [TensorQuantizer] {
        var session = try CalibrationSession(graph: graph, inputs: [inputName: calibration], batchSize: 256)
        var probe = try CalibrationSession(graph: graph, inputs: CalibrationSession.probeInputs(session), batchSize: 256)
        var options = StepSearch.Options()
        options.initialization = .mmse
        options.joint = nil
        return try StepSearch(options: options, loss: { _ in 0 }).run(targets, session: &session, probe: &probe).quantizers
    }

    /// FP32 reference value of a tensor over the calibration data (for asymmetric ranges).
    func calibrationRange(_ name: String) throws -> (Float, Float) {
        let session = try CalibrationSession(graph: graph, inputs: [inputName: calibration], batchSize: 256)
        let v = try #require(session.referenceValue(name)).asFloats
        return (v.min()!, v.max()!)
    }
}

/// A scratch directory removed by the caller.
func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-export-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Python subprocesses (ONNX Runtime, onnx.checker, jsonschema).
enum Python {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ script: String, arguments: [String] = []) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self))
    }

    /// Whether python3 can import every module; records an issue (a failure) naming what is missing otherwise.
    static func require(_ modules: [String], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let r = try? run("import " + modules.joined(separator: ", "))
        if r?.status == 0 { return true }
        Issue.record("python3 with \(modules.joined(separator: ", ")) is needed for this test (pip install \(modules.joined(separator: " "))): \(r?.stderr ?? "python3 not found")",
                     sourceLocation: sourceLocation)
        return false
    }

    /// Runs a model with ONNX Runtime on one input and returns its first output; checks the model
    /// with onnx.checker (full check) first. `optimize` false disables ORT's graph optimizations.
    static func onnxRuntime(model: URL, inputName: String, input: Tensor, optimize: Bool = true,
                            directory: URL) throws -> Tensor {
        let inPath = directory.appendingPathComponent("ort-input.npy"), outPath = directory.appendingPathComponent("ort-output.npy")
        try NPYWriter.write(input, to: inPath)
        let script = """
        import sys, numpy as np, onnx, onnxruntime as ort
        model, name, inp, outp, optimize = sys.argv[1:6]
        onnx.checker.check_model(onnx.load(model), full_check=True)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize == "1" else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        out = sess.run(None, {name: np.load(inp)})[0]
        np.save(outp, np.ascontiguousarray(out, dtype=np.float32))
        """
        let r = try run(script, arguments: [model.path, inputName, inPath.path, outPath.path, optimize ? "1" : "0"])
        guard r.status == 0 else {
            throw PythonFailure(message: "onnxruntime failed on \(model.lastPathComponent): \(r.stderr)")
        }
        return try NumpyArray(contentsOf: outPath).tensor
    }

    /// The integer kernels (QLinear*, QGemm, MatMulInteger*, …) ONNX Runtime's full optimization turns a
    /// QDQ model into, with their counts.
    static func integerKernels(model: URL) throws -> [String: Int] {
        let script = """
        import sys, collections, tempfile, os, onnx, onnxruntime as ort
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        path = os.path.join(tempfile.mkdtemp(), "optimized.onnx")
        so.optimized_model_filepath = path
        ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
        counts = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
        for op, n in counts.items():
            if op.startswith("QLinear") or op in ("QGemm", "QAttention", "MatMulIntegerToFloat", "MatMulInteger", "ConvInteger", "DynamicQuantizeMatMul"):
                print(op, n)
        """
        let r = try run(script, arguments: [model.path])
        guard r.status == 0 else { throw PythonFailure(message: "onnxruntime could not optimize \(model.lastPathComponent): \(r.stderr)") }
        var result: [String: Int] = [:]
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let n = Int(parts[1]) { result[String(parts[0])] = n }
        }
        return result
    }

    struct PythonFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }
}

/// Argmax per row of a [N, C] tensor.
func argmax(_ t: Tensor) -> [Int] {
    let v = t.asFloats, c = t.shape[1]
    return (0..<t.shape[0]).map { r in
        let row = v[(r * c)..<(r * c + c)]
        return row.indices.max { row[$0] < row[$1] }! - r * c
    }
}

/// What this CPU offers ONNX Runtime's integer kernels.
enum CPUFeatures {
    /// Whether ONNX Runtime's uint8 × int8 kernels are exact here: everywhere but on x86 CPUs without VNNI
    /// (`avx512_vnni`, `avx_vnni` or AMX), where `vpmaddubsw` saturates its int16 pair sums (see `QDQExporter`).
    static let exactInt8WeightKernels: Bool = {
        #if arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return true }
        let flags = Set(line.split(separator: " ").map(String.init))
        return !flags.isDisjoint(with: ["avx512_vnni", "avx_vnni", "amx_int8"])
        #else
        return true
        #endif
    }()
}
