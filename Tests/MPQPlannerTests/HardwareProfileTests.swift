import Foundation
import Testing
@testable import MPQPlanner

/// The repository's hardware-profiles directory (tests run from anywhere).
let profilesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("hardware-profiles")

@Suite struct HardwareProfileTests {
    static let valid = """
    {"format_version": 1, "name": "t", "source": "tests",
     "candidates": [{"name": "W4A8", "weight_bits": 4, "activation_bits": 8},
                    {"name": "W8A8", "weight_bits": 8, "activation_bits": 8, "symmetric": false, "activation_signed": false}],
     "op_support": {"Conv": ["W4A8", "W8A8"], "DepthwiseConv": ["W8A8"], "Softmax": "float_only"},
     "equal_precision_inputs": ["Add"],
     "size": {"scale_bits": 32, "zero_point_bits": 8},
     "latency": {"model": "roofline", "clock_mhz": 500,
                 "per_candidate": {"W4A8": {"macs_per_cycle": 64, "bytes_per_cycle": 16}, "W8A8": {"macs_per_cycle": 32, "bytes_per_cycle": 16}}}}
    """

    /// Replaces `old` by `new` in the valid profile (exactly once).
    static func broken(_ old: String, _ new: String) -> String {
        precondition(valid.components(separatedBy: old).count == 2, "'\(old)' must occur once")
        return valid.replacingOccurrences(of: old, with: new)
    }

    @Test func validProfileParses() throws {
        let p = try HardwareProfile(json: Data(HardwareProfileTests.valid.utf8), origin: "t.json")
        #expect(p.candidates.map(\.name) == ["W4A8", "W8A8"])
        #expect(p.candidates[1].activationSigned == .unsigned && p.candidates[0].activationSigned == .auto)
        #expect(p.candidates[1].symmetric == false)
        #expect(p.allowedCandidates(forOpTypes: ["Conv", "DepthwiseConv"]) == [1])
        #expect(p.allowedCandidates(forOpTypes: ["Relu"]) == [0, 1])
        #expect(p.allowedCandidates(forOpTypes: ["Softmax"]) == nil)
        #expect(p.requiresEqualPrecisionInputs("Add"))
        #expect(p.latency == .roofline(clockMHz: 500, perCandidate: [.init(macsPerCycle: 64, bytesPerCycle: 16), .init(macsPerCycle: 32, bytesPerCycle: 16)]))
    }

    @Test(arguments: [
        (broken("\"format_version\": 1", "\"format_version\": 2"), "format_version", "got 2"),
        (broken("\"format_version\": 1, ", ""), "format_version", "missing required field"),
        (broken("\"name\": \"t\", ", ""), "name", "missing required field"),
        (broken("\"source\": \"tests\"", "\"source\": \"\""), "source", "must not be empty"),
        (broken("\"weight_bits\": 4", "\"weight_bits\": 1"), "candidates[0].weight_bits", "got 1; allowed: 2...16"),
        (broken("\"weight_bits\": 8", "\"weight_bits\": 17"), "candidates[1].weight_bits", "got 17; allowed: 2...16"),
        (broken("\"weight_bits\": 8", "\"weight_bits\": 7.5"), "candidates[1].weight_bits", "expected a whole number"),
        (broken("\"weight_bits\": 8", "\"weight_bits\": \"8\""), "candidates[1].weight_bits", "got \"8\""),
        (broken("\"activation_signed\": false", "\"activation_signed\": \"maybe\""), "candidates[1].activation_signed", "\"auto\""),
        (broken("\"name\": \"W8A8\"", "\"name\": \"W4A8\""), "candidates[1].name", "duplicate candidate name \"W4A8\""),
        (broken("\"symmetric\": false", "\"symetric\": false"), "candidates[1].symetric", "unknown field"),
        (broken("\"DepthwiseConv\": [\"W8A8\"]", "\"DepthwiseConv\": [\"W8A16\"]"), "op_support.DepthwiseConv[0]", "unknown candidate \"W8A16\"; the profile's candidates are W4A8, W8A8"),
        (broken("\"DepthwiseConv\": [\"W8A8\"]", "\"DepthwiseConv\": []"), "op_support.DepthwiseConv", "empty list"),
        (broken("\"Softmax\": \"float_only\"", "\"Softmax\": \"float\""), "op_support.Softmax", "\"float_only\""),
        (broken("\"scale_bits\": 32", "\"scale_bits\": 65"), "size.scale_bits", "got 65; allowed: 0...64"),
        (broken("\"size\": {\"scale_bits\": 32, \"zero_point_bits\": 8},", ""), "size", "missing required field"),
        (broken("\"clock_mhz\": 500", "\"clock_mhz\": 0"), "latency.clock_mhz", "must be a number above 0"),
        (broken("\"W8A8\": {\"macs_per_cycle\": 32, \"bytes_per_cycle\": 16}", "\"W8A16\": {\"macs_per_cycle\": 32, \"bytes_per_cycle\": 16}"), "latency.per_candidate.W8A16", "unknown field"),
        (broken(", \"W8A8\": {\"macs_per_cycle\": 32, \"bytes_per_cycle\": 16}", ""), "latency.per_candidate.W8A8", "missing"),
        (broken("\"macs_per_cycle\": 64", "\"macs_per_cycle\": -64"), "latency.per_candidate.W4A8.macs_per_cycle", "above 0"),
        (broken("\"model\": \"roofline\"", "\"model\": \"magic\""), "latency.model", "allowed: \"roofline\" or \"table\""),
        (broken("\"equal_precision_inputs\": [\"Add\"]", "\"equal_precision_inputs\": \"Add\""), "equal_precision_inputs", "expected an array"),
        (broken("\"candidates\": [", "\"candidats\": 0, \"candidates\": ["), "candidats", "unknown field"),
    ])
    func brokenProfilesNameThePath(json: String, path: String, fragment: String) {
        let error = #expect(throws: HardwareProfileError.self) { try HardwareProfile(json: Data(json.utf8), origin: "t.json") }
        guard case .invalid(let origin, let gotPath, let problem)? = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(origin == "t.json")
        #expect(gotPath == path)
        #expect(problem.contains(fragment), "\(problem)")
        #expect(error!.description.hasPrefix("hardware profile t.json: \(path): "))
    }

    @Test func latencyTableParses() throws {
        let json = HardwareProfileTests.valid.replacingOccurrences(
            of: #""model": "roofline", "clock_mhz": 500,"#, with: #""model": "table", "layers": {"conv1": {"W4A8": 0.5, "W8A8": 0.75}}, "x":"#)
        // The unknown "x" field is reported first.
        #expect(throws: HardwareProfileError.self) { try HardwareProfile(json: Data(json.utf8)) }
        let table = #"{"format_version": 1, "name": "t", "source": "s", "candidates": [{"name": "W8A8", "weight_bits": 8, "activation_bits": 8}], "size": {"scale_bits": 32, "zero_point_bits": 0}, "latency": {"model": "table", "layers": {"conv1": {"W8A8": 0.75}}}}"#
        let p = try HardwareProfile(json: Data(table.utf8))
        #expect(p.latency == .table(["conv1": [0: 0.75]]))
        let bad = table.replacingOccurrences(of: #"{"W8A8": 0.75}"#, with: #"{"W4A4": 0.75}"#)
        let error = #expect(throws: HardwareProfileError.self) { try HardwareProfile(json: Data(bad.utf8)) }
        #expect(error == .invalid(origin: "<profile>", path: "latency.layers.conv1.W4A4", problem: "unknown candidate \"W4A4\"; the profile's candidates are W8A8"))
    }

    @Test func notJSON() {
        let error = #expect(throws: HardwareProfileError.self) { try HardwareProfile(json: Data("{\"format_version\": ".utf8), origin: "x.json") }
        guard case .invalidJSON(let origin, let reason)? = error else { Issue.record("expected invalidJSON"); return }
        #expect(origin == "x.json")
        // Where, in JSONSerialization's words, not a DecodingError dump.
        #expect(reason == "Unexpected end of file during JSON parse.", "\(reason)")
        let array = #expect(throws: HardwareProfileError.self) { try HardwareProfile(json: Data("[]".utf8), origin: "x.json") }
        #expect(array?.description == "hardware profile x.json: top level: expected an object, got an array of 0")
    }

    @Test(arguments: ["generic-npu", "dsp-int16", "mcu-int8", "gpu-tensorcore"])
    func bundledProfilesLoad(name: String) throws {
        let p = try HardwareProfile.bundled(named: name, in: profilesDirectory)
        #expect(p.name == name)
        #expect(!p.source.isEmpty)
        guard case .roofline(_, let rates)? = p.latency else { Issue.record("\(name) has no roofline"); return }
        #expect(rates.count == p.candidates.count)
        #expect(p.candidateIndex(named: "W8A8") != nil)
    }

    @Test func bundledDetails() throws {
        let mcu = try HardwareProfile.bundled(named: "mcu-int8", in: profilesDirectory)
        #expect(mcu.allowedCandidates(forOpTypes: ["Conv", "DepthwiseConv"]).map { $0.map { mcu.candidates[$0].name } } == ["W8A8"])
        let gpu = try HardwareProfile.bundled(named: "gpu-tensorcore", in: profilesDirectory)
        #expect(gpu.candidates.last?.numericFormat == .float)
        #expect(gpu.allowedCandidates(forOpTypes: ["Softmax"]) == nil)
    }

    @Test func loadByNameOrPathListsAvailable() throws {
        let byPath = try HardwareProfile.load(nameOrPath: profilesDirectory.appendingPathComponent("dsp-int16.json").path, searchDirectories: [])
        #expect(byPath.name == "dsp-int16")
        #expect(try HardwareProfile.load(nameOrPath: "dsp-int16.json", searchDirectories: [profilesDirectory]).name == "dsp-int16")
        let error = #expect(throws: HardwareProfileError.self) { try HardwareProfile.load(nameOrPath: "tpu", searchDirectories: [profilesDirectory]) }
        guard case .notFound(let n, _, let available)? = error else { Issue.record("expected notFound"); return }
        #expect(n == "tpu")
        #expect(["dsp-int16", "generic-npu", "gpu-tensorcore", "mcu-int8"].allSatisfy(available.contains))
        #expect(error!.description.contains("generic-npu"))
        #expect(throws: HardwareProfileError.self) { try HardwareProfile.load(nameOrPath: "/nonexistent/p.json", searchDirectories: [profilesDirectory]) }
    }

    @Test func bundledProfilePlansAModel() throws {
        // A toy three-layer model on the NPU profile: the depthwise group cannot take W4A8.
        let p = try HardwareProfile.bundled(named: "generic-npu", in: profilesDirectory)
        let layers = [LayerCost(name: "conv", opType: "Conv", parameters: 4608, outputChannels: 32, macs: 1_179_648, inputElements: 16384, outputElements: 32768),
                      LayerCost(name: "dw", opType: "DepthwiseConv", parameters: 288, outputChannels: 32, macs: 73_728, inputElements: 32768, outputElements: 32768),
                      LayerCost(name: "fc", opType: "Gemm", parameters: 10240, outputChannels: 10, macs: 10240, inputElements: 1024, outputElements: 10)]
        let groups = layers.map { PlanningGroup(name: $0.name, layers: [$0], allowedCandidates: p.allowedCandidates(forOpTypes: [$0.opType])!) }
        let sens: [[Double?]] = groups.map { g in p.candidates.indices.map { g.allowedCandidates.contains($0) ? Double(4 - $0) : nil } }
        let planner = try MixedPrecisionPlanner(problem: PlanningProblem(candidates: p.candidates, groups: groups, sensitivities: sens), profile: p)
        let plan = try planner.plan(budgets: BudgetConstraint.parseList(["5bits", "90%bops"]))
        #expect(plan.costs[.averageWeightBits]! <= 5)
        #expect(plan.relativeBOPs! <= 90)
        #expect(plan.candidateNames[1] != "W4A8")
    }
}
