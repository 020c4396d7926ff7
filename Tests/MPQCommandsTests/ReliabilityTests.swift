import Foundation
@testable import MPQCommands
import MPQData
import MPQExecutor
import MPQGraph
import MPQPlanning
import ONNXProto
import SwiftProtobuf
import Testing

// Minimal reproducers of what scripts/fuzz.py found, one per error class: each asserts a one-line message that
// names what is wrong and where, and a clean exit code (no trap, no hang, no exit 0 on invalid input).

/// A scratch folder of its own for one test.
private func scratch(_ name: String) -> URL {
    let dir = Paths.temporary("reliability-\(name)")
    try? FileManager.default.removeItem(at: dir)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The digits model, changed by `edit`, written into `dir`.
private func digitsModel(in dir: URL, _ edit: (inout Onnx_ModelProto) throws -> Void) throws -> String {
    var model = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: Paths.example("digits/model.onnx"))))
    try edit(&model)
    let url = dir.appendingPathComponent("model.onnx")
    try model.serializedData().write(to: url)
    return url.path
}

private func initializerIndex(_ model: Onnx_ModelProto, _ name: String) -> Int {
    model.graph.initializer.firstIndex { $0.name == name }!
}

/// Runs `mpq` and checks that it failed cleanly with one line containing every fragment.
private func expectFailure(_ arguments: [String], code: Int32 = 65, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    let (status, message) = runMPQ(arguments)
    #expect(status == code, "exit \(status): \(message)", sourceLocation: sourceLocation)
    #expect(!message.contains("\n"), "not one line: \(message)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(message.contains(fragment), "'\(fragment)' not in: \(message)", sourceLocation: sourceLocation)
    }
}

private func evalArguments(_ model: String, data: String = Paths.example("digits/calib.npy")) -> [String] {
    ["eval", model, "--data", data, "--threads", "1"]
}

// MARK: Sizes read from files

@Test func tensorDimsWhoseProductOverflowsAreRefused() throws {
    let model = try digitsModel(in: scratch("dims")) { m in
        m.graph.initializer[initializerIndex(m, "conv1.weight")].dims = [1 << 40, 1 << 40, 1 << 40, 1]
    }
    expectFailure(evalArguments(model), "tensor 'conv1.weight'", "more than")
}

@Test func externalDataOffsetPlusLengthOverflowIsRefused() throws {
    let dir = scratch("external-offset")
    try Data(count: 64).write(to: dir.appendingPathComponent("weights.bin"))
    let model = try digitsModel(in: dir) { m in
        let i = initializerIndex(m, "fc.weight")
        m.graph.initializer[i].clearRawData()
        m.graph.initializer[i].dataLocation = .external
        m.graph.initializer[i].externalData = [("location", "weights.bin"), ("offset", "\(Int.max)"), ("length", "16")].map { key, value in
            var e = Onnx_StringStringEntryProto()
            e.key = key
            e.value = value
            return e
        }
    }
    expectFailure(evalArguments(model), "tensor 'fc.weight'", "weights.bin", "lies beyond")
}

@Test func externalDataOutsideTheModelFolderIsRefused() throws {
    let model = try digitsModel(in: scratch("external-escape")) { m in
        let i = initializerIndex(m, "fc.weight")
        m.graph.initializer[i].clearRawData()
        m.graph.initializer[i].dataLocation = .external
        var e = Onnx_StringStringEntryProto()
        e.key = "location"
        e.value = "../../../../../../etc/passwd"
        m.graph.initializer[i].externalData = [e]
    }
    expectFailure(evalArguments(model), "tensor 'fc.weight'", "leaves the model's folder")
}

/// Pads whose output shape overflows, and pads whose output merely exceeds the machine's memory (that one trapped
/// in the allocator with "failed to allocate 32768098336 bytes").
@Test(arguments: [[1 << 40, 1 << 40, 1 << 40, 1 << 40], [1, 1, 1_000_000, 1]])
func absurdPadsAreRefusedBeforeAllocating(pads values: [Int64]) throws {
    let model = try digitsModel(in: scratch("pads\(values[2])")) { m in
        let n = m.graph.node.lastIndex { $0.opType == "Conv" }!
        var pads = Onnx_AttributeProto()
        pads.name = "pads"
        pads.type = .ints
        pads.ints = values
        m.graph.node[n].attribute.removeAll { $0.name == "pads" }
        m.graph.node[n].attribute.append(pads)
    }
    expectFailure(evalArguments(model) + ["--batch-size", "256"], "/conv3/Conv", "inferred output shape")
}

/// A model whose fixed batch dwarfs the samples (fuzz case onnx-struct:3117, seed 3401: batch 1,000,000 for 256
/// samples took 37 s and 10 GB) is refused before anything runs; a fixed batch above the samples but within the
/// padding allowance still runs.
@Test func fixedBatchFarAboveTheSamplesIsRefused() throws {
    func model(batch: Int64) throws -> String {
        try digitsModel(in: scratch("fixed-batch-\(batch)")) { m in
            m.graph.input[0].type.tensorType.shape.dim[0] = Onnx_TensorShapeProto.Dimension.with { $0.dimValue = batch }
        }
    }
    expectFailure(evalArguments(try model(batch: 1_000_000)), "fixes its batch size at 1000000", "256 samples",
                  "dynamic batch axis or a batch of at most 1280")
    let (status, message) = runMPQ(evalArguments(try model(batch: 1280)))
    #expect(status == 0, "\(message)")
    var layout = BatchLayout(graph: try LoadedModel(path: try model(batch: 1_000_000)).graph, requested: 64)
    #expect(throws: ExecutionError.excessivePadding(fixedBatch: 1_000_000, samples: 256)) { try layout.checkPadding(sampleCount: 256) }
    layout = BatchLayout(graph: try LoadedModel(path: try model(batch: 8)).graph, requested: 64)
    try layout.checkPadding(sampleCount: 5)
}

// MARK: Finiteness of data and weights

@Test func nonFiniteCalibrationDataNamesFileAndSample() throws {
    let dir = scratch("nan-data")
    var array = try NumpyArray(contentsOf: URL(fileURLWithPath: Paths.example("digits/calib.npy")))
    var values = array.tensor.floats!
    values[3 * 64 + 5] = .nan
    array.tensor = Tensor(shape: array.tensor.shape, floats: values)
    let path = dir.appendingPathComponent("calib.npy").path
    try NPYWriter.write(array.tensor, to: URL(fileURLWithPath: path))
    expectFailure(evalArguments(Paths.example("digits/model.onnx"), data: path), "calib.npy", "sample 3", "nan", "element 5")
}

@Test func nonFiniteWeightsNameTheTensor() throws {
    let model = try digitsModel(in: scratch("nan-weight")) { m in
        let i = initializerIndex(m, "fc.weight")
        var raw = [UInt8](m.graph.initializer[i].rawData)
        withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian) { raw.replaceSubrange(8..<12, with: $0) }
        m.graph.initializer[i].rawData = Data(raw)
    }
    expectFailure(evalArguments(model), "tensor 'fc.weight'", "inf", "element 2")
}

// MARK: Options and project-file fields share one validation

@Test func projectFileBatchSizeIsValidatedLikeTheOption() throws {
    for (value, shown) in [("0", "0"), ("-1", "-1")] {
        let dir = scratch("batch\(value)")
        let project = dir.appendingPathComponent("mpq.json")
        try Data("{\"model\": \"\(Paths.example("digits/model.onnx"))\", \"calib\": \"\(Paths.example("digits/calib.npy"))\", \"budget\": [\"6bits\"], \"profile\": \"generic-npu\", \"batch_size\": \(value)}".utf8).write(to: project)
        expectFailure(["plan", "--project", project.path, "--output-dir", dir.path, "--cache-dir", dir.path], code: 65, "batch_size in mpq.json", shown)
    }
    expectFailure(["plan", Paths.example("digits/model.onnx"), "--batch-size", "0"], code: 64, "--batch-size", "between 1 and")
    expectFailure(["eval", Paths.example("digits/model.onnx"), "--data", "x.npy", "--batch-size", "-1"], code: 64, "--batch-size", "-1")
}

/// The p sweep's counts in mpq.json are checked like their options: a one-line error naming the field or option.
@Test(arguments: [("p_sweep_finalists", "--p-sweep-finalists"), ("p_sweep_below_bits", "--p-sweep-below-bits")])
func pSweepCountsAreValidatedLikeTheirOptions(field: String, option: String) throws {
    let dir = scratch(field)
    let project = dir.appendingPathComponent("mpq.json")
    try Data("{\"model\": \"\(Paths.example("digits/model.onnx"))\", \"calib\": \"\(Paths.example("digits/calib.npy"))\", \"budget\": [\"6bits\"], \"profile\": \"generic-npu\", \"\(field)\": 0}".utf8).write(to: project)
    let fromFile = runMPQ(["plan", "--project", project.path, "--output-dir", dir.path, "--cache-dir", dir.path])
    #expect(fromFile.code != 0 && fromFile.message.contains("\(field) in mpq.json") && fromFile.message.contains("got 0"), "\(fromFile.message)")
    let fromOption = runMPQ(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--budget", "6bits",
                             "--profile", "generic-npu", option, "-2", "--output-dir", dir.path, "--cache-dir", dir.path])
    #expect(fromOption.code != 0 && fromOption.message.contains(option) && fromOption.message.contains("got -2"), "\(fromOption.message)")
}

/// Sensitivities on the probe need the p sweep there too; an unknown value in mpq.json is named with the choices.
@Test func sensitivitySamplesAreValidated() throws {
    let dir = scratch("sensitivity-samples")
    let arguments = ["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--budget", "6bits",
                     "--profile", "generic-npu", "--output-dir", dir.path, "--cache-dir", dir.path]
    expectFailure(arguments + ["--sensitivity-samples", "probe", "--p-sweep-samples", "all"], code: 65, "sensitivity samples 'probe'", "--p-sweep-samples all")
    expectFailure(arguments + ["--sensitivity-samples", "some"], code: 64, "--sensitivity-samples", "some")
    let project = dir.appendingPathComponent("mpq.json")
    try Data("{\"model\": \"\(Paths.example("digits/model.onnx"))\", \"calib\": \"\(Paths.example("digits/calib.npy"))\", \"budget\": [\"6bits\"], \"profile\": \"generic-npu\", \"sensitivity_samples\": \"half\"}".utf8).write(to: project)
    expectFailure(["plan", "--project", project.path, "--output-dir", dir.path, "--cache-dir", dir.path], code: 65,
                  "sensitivity samples 'half'", "sensitivity_samples", "all, probe")
}

@Test func emptyBudgetsAreRefused() throws {
    let dir = scratch("empty-budget")
    let project = dir.appendingPathComponent("mpq.json")
    try Data("{\"model\": \"\(Paths.example("digits/model.onnx"))\", \"calib\": \"\(Paths.example("digits/calib.npy"))\", \"budget\": [], \"profile\": \"generic-npu\"}".utf8).write(to: project)
    expectFailure(["plan", "--project", project.path], "no budget")
    expectFailure(["plan", "--project", project.path, "--budget", ""], "cannot read budget", "empty")
    expectFailure(["plan", "--project", project.path, "--budget", "4bits,"], "cannot read budget", "empty")
}

@Test func negativeBudgetIsOneLineValueError() {
    expectFailure(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"),
                   "--profile", "generic-npu", "--budget", "-5bits"], "cannot read budget '-5bits'", "positive")
}

@Test func threadCountsAreClampedToTheMachine() throws {
    #expect(try SettingCheck.threads(48) == min(48, ProcessInfo.processInfo.activeProcessorCount))
    expectFailure(["eval", Paths.example("digits/model.onnx"), "--data", "x.npy", "--threads", "0"], code: 64, "--threads", "positive")
}

/// Under Slurm the task's CPU allocation sets the threads unless `--threads` does; a bad value is named.
@Test func slurmAllocationSetsTheThreads() throws {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #expect(try PlanCommand.threads(option: nil, environment: [:]) == nil)
    #expect(try PlanCommand.threads(option: nil, environment: ["SLURM_CPUS_PER_TASK": "1"]) == 1)
    #expect(try PlanCommand.threads(option: nil, environment: ["SLURM_CPUS_PER_TASK": "64"]) == cores)
    #expect(try PlanCommand.threads(option: 1, environment: ["SLURM_CPUS_PER_TASK": "2"]) == 1)
    for (value, fragment) in [("0", "SLURM_CPUS_PER_TASK must be positive, got 0"), ("two", "SLURM_CPUS_PER_TASK must be a whole number of CPUs, got 'two'")] {
        let error = #expect(throws: UsageProblem.self) { try PlanCommand.threads(option: nil, environment: ["SLURM_CPUS_PER_TASK": value]) }
        #expect(error.map { "\($0)" }?.contains(fragment) == true, "\(String(describing: error))")
    }
}

@Test func fieldOfTheWrongTypeIsNamed() throws {
    let dir = scratch("wrong-type")
    let project = dir.appendingPathComponent("mpq.json")
    try Data("{\"batch_size\": \"large\"}".utf8).write(to: project)
    expectFailure(["plan", "--project", project.path], "mpq.json", "field 'batch_size'", "an integer")
}

/// A field mpq does not read (a byte-damaged or misspelt `calib_samples`) was ignored and the plan made without it.
@Test func unknownProjectFieldIsRefused() throws {
    let project = scratch("unknown-field").appendingPathComponent("mpq.json")
    try Data("{\"budget\": [\"4bits\"], \"calib_sample\": 64}".utf8).write(to: project)
    expectFailure(["plan", "--project", project.path], "mpq.json", "unknown field 'calib_sample'")
}

@Test func duplicateJSONKeysAreRefused() throws {
    let dir = scratch("duplicate")
    let project = dir.appendingPathComponent("mpq.json")
    try Data("{\"budget\": [\"4bits\"], \"budget\": [\"8bits\"]}".utf8).write(to: project)
    expectFailure(["plan", "--project", project.path], "mpq.json", "duplicate key \"budget\"")
    let profile = dir.appendingPathComponent("p.json")
    let text = try String(contentsOfFile: Paths.repository.appendingPathComponent("hardware-profiles/generic-npu.json").path, encoding: .utf8)
    try Data(text.replacingOccurrences(of: "\"size\":", with: "\"name\": \"again\", \"size\":").utf8).write(to: profile)
    expectFailure(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--budget", "6bits",
                   "--profile", profile.path], "p.json", "name", "duplicate key")
}

@Test func directoryGivenAsFileIsNamed() throws {
    let dir = scratch("directory")
    expectFailure(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--budget", "6bits",
                   "--profile", dir.path + "/"], "is a directory")
    expectFailure(["export", dir.path], "is a directory")
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("mpq.json"), withIntermediateDirectories: true)
    expectFailure(["plan", "--project", dir.appendingPathComponent("mpq.json").path], "mpq.json", "is a directory")
    #expect(CommandFailure.message(for: CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: dir.path])) == "\(dir.path): is a directory, not a file")
}

@Test func controlCharactersCannotBreakTheLine() {
    #expect(CommandFailure.oneLine("budget '4\u{85}bits\r'\n") == "budget '4\\u{85}bits\\u{d}' ")
}

/// An output path in a directory that does not exist says which directory (not Foundation's "the file doesn't exist").
@Test func missingOutputDirectoryIsNamed() throws {
    let dir = Paths.temporary("missing-output-dir")
    try? FileManager.default.removeItem(at: dir)
    let target = dir.appendingPathComponent("sub/plan-copy.json").path
    let error = CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: target])
    #expect(CommandFailure.message(for: error) == "\(target): the directory \(dir.path)/sub does not exist; create it or choose another path")
    let existing = CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: dir.deletingLastPathComponent().appendingPathComponent("x.npy").path])
    #expect(CommandFailure.message(for: existing).contains("cannot be read or written"))
}

// MARK: Profile numbers

@Test func profileNumbersOutOfRangeNameTheJSONPath() throws {
    let dir = scratch("profile-range")
    let text = try String(contentsOfFile: Paths.repository.appendingPathComponent("hardware-profiles/generic-npu.json").path, encoding: .utf8)
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    var latency = object["latency"] as! [String: Any]
    var per = latency["per_candidate"] as! [String: Any]
    let name = per.keys.sorted()[0]
    for (value, label) in [(5e-324, "denormal"), (1e308, "huge")] {
        per[name] = ["macs_per_cycle": value, "bytes_per_cycle": 16]
        latency["per_candidate"] = per
        var changed = object
        changed["latency"] = latency
        let profile = dir.appendingPathComponent("\(label).json")
        try JSONSerialization.data(withJSONObject: changed).write(to: profile)
        expectFailure(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"), "--budget", "6bits",
                       "--profile", profile.path], "\(label).json", "latency.per_candidate.\(name).macs_per_cycle", "between 1e-9 and 1e12")
    }
}

// MARK: Plan files are validated on their own and against the model

/// A small measured plan of the digits model (minmax steps, no sweep, no refinement), written once.
private let digitsPlan: Result<[String: Any], Error> = Result {
    let dir = scratch("seed-plan")
    let (code, message) = runMPQ(["plan", Paths.example("digits/model.onnx"), "--calib", Paths.example("digits/calib.npy"),
                                  "--budget", "6bits", "--profile", "generic-npu", "--pareto-points", "0", "--proposals", "1",
                                  "--step-search", "minmax", "--calib-samples", "64", "--no-refine", "--output-dir", dir.path,
                                  "--cache-dir", dir.appendingPathComponent("cache").path])
    guard code == 0 else { throw UsageProblem("seed plan failed: \(message)") }
    return try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("plan.json"))) as! [String: Any]
}

/// The seed plan with its first per-channel weight record changed by `edit`, written to a file of its own.
private func editedPlan(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
    var plan = try digitsPlan.get()
    var tensors = plan["tensors"] as! [[String: Any]]
    let i = tensors.firstIndex { $0["axis"] != nil && !($0["axis"] is NSNull) }!
    edit(&tensors[i])
    plan["tensors"] = tensors
    let url = scratch("plan-\(name)").appendingPathComponent("plan.json")
    try JSONSerialization.data(withJSONObject: plan).write(to: url)
    return url.path
}

@Test func planScalesMustBePositive() throws {
    for value in [0.0, -0.5] {
        let path = try editedPlan("scale\(value)") { $0["scales"] = [value] + (($0["scales"] as! [Double]).dropFirst()) }
        expectFailure(["export", path, "--format", "encodings", "-o", path + ".enc"], "plan.json", "tensors[", "scale \(Float(value)) at index 0", "must be positive")
        expectFailure(["refine", path, "--max-evaluations", "2"], "plan.json", "scale \(Float(value))")
    }
}

@Test func planAxesAndNamesMustExistInTheModel() throws {
    let negative = try editedPlan("axis") { $0["axis"] = -1 }
    expectFailure(["export", negative, "--format", "qdq", "-o", negative + ".onnx"], "plan.json", "axis -1 is negative")
    let beyond = try editedPlan("axis-beyond") { $0["axis"] = 7 }
    expectFailure(["export", beyond, "--format", "encodings", "-o", beyond + ".enc"], "plan.json", "has no axis 7")
    let unknown = try editedPlan("name") { $0["name"] = "no.such.weight" }
    expectFailure(["export", unknown, "--format", "encodings", "-o", unknown + ".enc"], "plan.json", "'no.such.weight' does not exist in the model")
}

/// `--help` prints the whole help text and exits 0: it is not squeezed into a one-line error.
@Test func helpIsNotAnError() throws {
    for arguments in [["--help"], ["plan", "--help"], ["help", "plan"], ["quantize", "-h"]] {
        do {
            var command = try MPQCommand.parseAsRoot(arguments)
            try command.run()
            Issue.record("\(arguments) ran as a command")
        } catch {
            #expect(MPQCommand.failure(for: error) == nil, "\(arguments)")
            #expect(MPQCommand.exitCode(for: error).rawValue == 0)
            #expect(MPQCommand.fullMessage(for: error).contains("USAGE:"))
        }
    }
}

/// Every value an option lists in `--help` comes with its description (none is an empty "value - " line).
@Test func helpDescribesEveryListedValue() throws {
    for command in ["plan", "sensitivity", "quantize", "refine", "export", "eval", "inspect"] {
        let text = MPQCommand.helpMessage(for: try #require(MPQCommand.configuration.subcommands.first {
            $0.configuration.commandName == command
        }), columns: 200)
        let bare = text.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasSuffix(" -") }
        #expect(bare.isEmpty, "\(command): \(bare)")
    }
    let plan = MPQCommand.helpMessage(for: PlanCommand.self, columns: 200)
    #expect(plan.contains("kl") && plan.contains("- mean KL divergence of the quantized output distribution from the FP32 one"))
}
