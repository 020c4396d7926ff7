import Foundation
import MPQCommands
import MPQData
import MPQGraph

enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ path: String) -> String { repository.appendingPathComponent("examples/" + path).path }
    static func fixture(_ path: String) -> String {
        repository.appendingPathComponent("Tests/MPQONNXTests/Fixtures/" + path).path
    }
    static func temporary(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name)
    }
}

/// Runs `mpq` in process as the CLI would: the exit code and the one-line error message (if any).
func runMPQ(_ arguments: [String]) -> (code: Int32, message: String) {
    do {
        var command = try MPQCommand.parseAsRoot(MPQCommand.joiningNegativeValues(arguments))
        try command.run()
        return (0, "")
    } catch {
        if let failure = MPQCommand.failure(for: error) { return failure }
        return (MPQCommand.exitCode(for: error).rawValue, MPQCommand.message(for: error))
    }
}

/// Runs an ONNX model in ONNX Runtime (CPU) on the members of an `.npz` named after its inputs and
/// returns its first output; checks the model with onnx.checker (full check) first. `optimize` false
/// disables ORT's graph optimizations (the reference QDQ semantics: DQ → float op → Q); `config` adds
/// session configuration entries.
func onnxRuntime(model: String, inputs npz: String, optimize: Bool, config: [String: String] = [:]) throws -> Tensor {
    let out = Paths.temporary("ort-\(UUID().uuidString).npy")
    defer { try? FileManager.default.removeItem(at: out) }
    let script = """
    import sys, numpy as np, onnx, onnxruntime as ort
    model, npz, outp, optimize = sys.argv[1:5]
    onnx.checker.check_model(onnx.load(model), full_check=True)
    so = ort.SessionOptions()
    for entry in sys.argv[5:]:
        key, value = entry.split("=", 1)
        so.add_session_config_entry(key, value)
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize == "1" else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    data = np.load(npz)
    out = sess.run(None, {i.name: data[i.name] for i in sess.get_inputs()})[0]
    np.save(outp, np.ascontiguousarray(out, dtype=np.float32))
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, model, npz, out.path, optimize ? "1" : "0"] + config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    let err = Pipe()
    process.standardError = err
    try process.run()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw UsageProblem("onnxruntime failed on \(model) (is onnxruntime installed?): \(message)") }
    return try NumpyArray(contentsOf: out).tensor
}
