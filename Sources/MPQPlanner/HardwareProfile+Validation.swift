import Foundation

/// Problems loading a hardware profile. Every message names the file, the JSON path, the offending value
/// and what would be accepted.
public enum HardwareProfileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not JSON.
    case invalidJSON(origin: String, reason: String)
    /// A field is missing, has the wrong type or an invalid value. `path` is like `candidates[2].weight_bits`.
    case invalid(origin: String, path: String, problem: String)
    /// No profile file matched a name or path.
    case notFound(nameOrPath: String, searched: [String], available: [String])
    /// A latency table lacks entries for a layer of the model being planned.
    case latencyTableMissing(profile: String, layer: String, candidates: [String])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read hardware profile \(path): \(reason)"
        case .invalidJSON(let origin, let reason):
            return "hardware profile \(origin) is not valid JSON: \(reason)"
        case .invalid(let origin, let path, let problem):
            return "hardware profile \(origin): \(path): \(problem)"
        case .notFound(let nameOrPath, let searched, let available):
            let list = available.isEmpty ? "none found" : available.joined(separator: ", ")
            let dirs = searched.isEmpty ? "no directories" : searched.joined(separator: ", ")
            return "no hardware profile '\(nameOrPath)': pass a path to a profile JSON file or one of the bundled names (\(list); searched \(dirs))."
        case .latencyTableMissing(let profile, let layer, let candidates):
            return "hardware profile \(profile): latency.layers has no entry for layer '\(layer)' and candidate(s) \(candidates.joined(separator: ", ")); add \"\(layer)\": {\(candidates.map { "\"\($0)\": MILLISECONDS" }.joined(separator: ", "))} to latency.layers."
        }
    }
}

/// A parsed JSON value (keeps booleans and numbers apart, which `JSONSerialization` does not on every platform).
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let d = try? c.decode(Double.self) { self = .number(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// A short rendering for messages.
    var rendered: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }
}

/// Walks a profile's JSON, throwing `HardwareProfileError.invalid` with the path of the first problem.
private struct ProfileReader {
    let origin: String

    func fail(_ path: String, _ problem: String) -> HardwareProfileError {
        .invalid(origin: origin, path: path, problem: problem)
    }

    func object(_ v: JSONValue, _ path: String, allowedKeys: [String]) throws -> [String: JSONValue] {
        guard case .object(let o) = v else {
            throw fail(path.isEmpty ? "top level" : path, "expected an object, got \(v.rendered)")
        }
        for key in o.keys.sorted() where !allowedKeys.contains(key) {
            throw fail(join(path, key), "unknown field; allowed fields here: \(allowedKeys.joined(separator: ", "))")
        }
        return o
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func required(_ o: [String: JSONValue], _ path: String, _ key: String) throws -> JSONValue {
        guard let v = o[key] else { throw fail(join(path, key), "missing required field") }
        return v
    }

    func string(_ v: JSONValue, _ path: String, nonEmpty: Bool = false) throws -> String {
        guard case .string(let s) = v else { throw fail(path, "expected a string, got \(v.rendered)") }
        if nonEmpty, s.trimmingCharacters(in: .whitespaces).isEmpty { throw fail(path, "must not be empty") }
        return s
    }

    func bool(_ v: JSONValue, _ path: String) throws -> Bool {
        guard case .bool(let b) = v else { throw fail(path, "expected true or false, got \(v.rendered)") }
        return b
    }

    func number(_ v: JSONValue, _ path: String, positive: Bool = false, nonNegative: Bool = false) throws -> Double {
        guard case .number(let d) = v, d.isFinite else { throw fail(path, "expected a number, got \(v.rendered)") }
        // Denormal rates or astronomic costs turn into infinities in the cost model and the solver.
        guard d == 0 || (abs(d) >= 1e-9 && abs(d) <= 1e12) else {
            throw fail(path, "got \(v.rendered); must be 0 or between 1e-9 and 1e12 in magnitude")
        }
        if positive, !(d > 0) { throw fail(path, "got \(v.rendered); must be a number above 0") }
        if nonNegative, d < 0 { throw fail(path, "got \(v.rendered); must be 0 or more") }
        return d
    }

    func integer(_ v: JSONValue, _ path: String, in range: ClosedRange<Int>) throws -> Int {
        guard case .number(let d) = v, d.isFinite, d == d.rounded(), abs(d) < 1e9 else {
            throw fail(path, "expected a whole number in \(range.lowerBound)...\(range.upperBound), got \(v.rendered)")
        }
        guard range.contains(Int(d)) else {
            throw fail(path, "got \(Int(d)); allowed: \(range.lowerBound)...\(range.upperBound)")
        }
        return Int(d)
    }

    func signedness(_ v: JSONValue, _ path: String) throws -> Candidate.Signedness {
        switch v {
        case .bool(let b): return b ? .signed : .unsigned
        case .string("auto"): return .auto
        default: throw fail(path, "got \(v.rendered); allowed: true (signed), false (unsigned) or \"auto\" (unsigned when the tensor is non-negative)")
        }
    }
}

extension HardwareProfile {
    static let topLevelKeys = ["format_version", "name", "description", "source", "candidates", "op_support",
                               "equal_precision_inputs", "size", "latency"]
    static let candidateKeys = ["name", "weight_bits", "activation_bits", "weight_signed", "activation_signed",
                                "symmetric", "per_channel", "numeric_format"]

    /// Parses and validates a profile. `origin` (a path or label) prefixes every error message.
    public init(json data: Data, origin: String = "<profile>") throws {
        let root: JSONValue
        if let duplicate = StrictJSON.firstDuplicateKey(in: data) {
            throw HardwareProfileError.invalid(origin: origin, path: duplicate.object.isEmpty ? duplicate.key : duplicate.object + "." + duplicate.key,
                                               problem: "duplicate key; each key may appear once")
        }
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            let detail = StrictJSON.syntaxError(in: data) ?? (error as? DecodingError).map(StrictJSON.describe) ?? "\(error)"
            throw HardwareProfileError.invalidJSON(origin: origin, reason: detail)
        }
        let r = ProfileReader(origin: origin)
        let top = try r.object(root, "", allowedKeys: HardwareProfile.topLevelKeys)
        // format_version first, so a future file fails on its version rather than on a new field.
        let version = try r.required(top, "", "format_version")
        guard case .number(let v) = version, v == Double(HardwareProfile.formatVersion) else {
            throw r.fail("format_version", "got \(version.rendered); this mpq reads format_version \(HardwareProfile.formatVersion)")
        }
        let name = try r.string(try r.required(top, "", "name"), "name", nonEmpty: true)
        let description = try top["description"].map { try r.string($0, "description") } ?? ""
        let source = try r.string(try r.required(top, "", "source"), "source", nonEmpty: true)

        // Candidates.
        guard case .array(let rawCandidates) = try r.required(top, "", "candidates") else {
            throw r.fail("candidates", "expected an array of candidate objects, got \(top["candidates"]!.rendered)")
        }
        guard !rawCandidates.isEmpty else { throw r.fail("candidates", "must list at least one candidate") }
        var candidates: [Candidate] = []
        for (i, raw) in rawCandidates.enumerated() {
            let p = "candidates[\(i)]"
            let o = try r.object(raw, p, allowedKeys: HardwareProfile.candidateKeys)
            let cname = try r.string(try r.required(o, p, "name"), "\(p).name", nonEmpty: true)
            if let j = candidates.firstIndex(where: { $0.name == cname }) {
                throw r.fail("\(p).name", "duplicate candidate name \"\(cname)\" (also candidates[\(j)]); names must be unique")
            }
            var format = Candidate.NumericFormat.int
            if let f = o["numeric_format"] {
                guard case .string(let s) = f, let parsed = Candidate.NumericFormat(rawValue: s) else {
                    throw r.fail("\(p).numeric_format", "got \(f.rendered); allowed: \"int\" or \"float\"")
                }
                format = parsed
            }
            func bits(_ key: String) throws -> Int {
                let value = try r.required(o, p, key)
                if format == .float {
                    let b = try r.integer(value, "\(p).\(key)", in: 8...32)
                    guard [8, 16, 32].contains(b) else { throw r.fail("\(p).\(key)", "got \(b); float candidates allow 8, 16 or 32 bits") }
                    return b
                }
                return try r.integer(value, "\(p).\(key)", in: Candidate.minimumBits...Candidate.maximumBits)
            }
            let wb = try bits("weight_bits"), ab = try bits("activation_bits")
            candidates.append(Candidate(
                name: cname, weightBits: wb, activationBits: ab,
                weightSigned: try o["weight_signed"].map { try r.signedness($0, "\(p).weight_signed") } ?? .signed,
                activationSigned: try o["activation_signed"].map { try r.signedness($0, "\(p).activation_signed") } ?? .auto,
                symmetric: try o["symmetric"].map { try r.bool($0, "\(p).symmetric") } ?? true,
                perChannel: try o["per_channel"].map { try r.bool($0, "\(p).per_channel") } ?? true,
                numericFormat: format))
        }
        let names = candidates.map(\.name)
        func candidateIndex(_ v: JSONValue, _ path: String) throws -> Int {
            let s = try r.string(v, path)
            guard let i = names.firstIndex(of: s) else {
                throw r.fail(path, "unknown candidate \"\(s)\"; the profile's candidates are \(names.joined(separator: ", "))")
            }
            return i
        }

        // Op support.
        var opSupport: [String: OpSupport] = [:]
        var defaultSupport: OpSupport = .candidates(Array(candidates.indices))
        if let raw = top["op_support"] {
            guard case .object(let o) = raw else {
                throw r.fail("op_support", "expected an object mapping op types to candidate-name lists or \"float_only\", got \(raw.rendered)")
            }
            for op in o.keys.sorted() {
                let p = "op_support.\(op)"
                let support: OpSupport
                switch o[op]! {
                case .string("float_only"):
                    support = .floatOnly
                case .array(let list):
                    guard !list.isEmpty else { throw r.fail(p, "an empty list allows nothing; list candidate names or use \"float_only\"") }
                    var indices: [Int] = []
                    for (k, item) in list.enumerated() {
                        let idx = try candidateIndex(item, "\(p)[\(k)]")
                        guard !indices.contains(idx) else { throw r.fail("\(p)[\(k)]", "candidate \"\(names[idx])\" is listed twice") }
                        indices.append(idx)
                    }
                    support = .candidates(indices)
                case let other:
                    throw r.fail(p, "got \(other.rendered); allowed: a list of candidate names (e.g. [\"\(names[0])\"]) or \"float_only\"")
                }
                if op == "*" { defaultSupport = support } else { opSupport[op] = support }
            }
        }

        // Equal-precision op types.
        var equal = Set<String>()
        if let raw = top["equal_precision_inputs"] {
            guard case .array(let list) = raw else {
                throw r.fail("equal_precision_inputs", "expected an array of op type names such as [\"Add\", \"Concat\"], got \(raw.rendered)")
            }
            for (k, item) in list.enumerated() { equal.insert(try r.string(item, "equal_precision_inputs[\(k)]", nonEmpty: true)) }
        }

        // Size model.
        let sizeObject = try r.object(try r.required(top, "", "size"), "size", allowedKeys: ["scale_bits", "zero_point_bits"])
        let size = SizeModel(
            scaleBits: try r.integer(try r.required(sizeObject, "size", "scale_bits"), "size.scale_bits", in: 0...64),
            zeroPointBits: try r.integer(try r.required(sizeObject, "size", "zero_point_bits"), "size.zero_point_bits", in: 0...32))

        // Latency model.
        var latency: LatencyModel?
        if let raw = top["latency"] {
            guard case .object(let o) = raw, let model = o["model"] else {
                throw r.fail("latency.model", "missing; allowed: \"roofline\" or \"table\"")
            }
            switch model {
            case .string("roofline"):
                let lo = try r.object(raw, "latency", allowedKeys: ["model", "clock_mhz", "per_candidate"])
                let clock = try r.number(try r.required(lo, "latency", "clock_mhz"), "latency.clock_mhz", positive: true)
                let per = try r.object(try r.required(lo, "latency", "per_candidate"), "latency.per_candidate", allowedKeys: names)
                var rates: [RooflineRate] = []
                for c in names {
                    let p = "latency.per_candidate.\(c)"
                    guard let entry = per[c] else {
                        throw r.fail(p, "missing: the roofline model needs {\"macs_per_cycle\", \"bytes_per_cycle\"} for every candidate")
                    }
                    let e = try r.object(entry, p, allowedKeys: ["macs_per_cycle", "bytes_per_cycle"])
                    rates.append(RooflineRate(
                        macsPerCycle: try r.number(try r.required(e, p, "macs_per_cycle"), "\(p).macs_per_cycle", positive: true),
                        bytesPerCycle: try r.number(try r.required(e, p, "bytes_per_cycle"), "\(p).bytes_per_cycle", positive: true)))
                }
                latency = .roofline(clockMHz: clock, perCandidate: rates)
            case .string("table"):
                let lo = try r.object(raw, "latency", allowedKeys: ["model", "layers"])
                guard case .object(let layers) = try r.required(lo, "latency", "layers") else {
                    throw r.fail("latency.layers", "expected an object {layer name: {candidate name: milliseconds}}, got \(lo["layers"]!.rendered)")
                }
                var table: [String: [Int: Double]] = [:]
                for layer in layers.keys.sorted() {
                    let p = "latency.layers.\(layer)"
                    guard case .object(let entries) = layers[layer]! else {
                        throw r.fail(p, "expected an object {candidate name: milliseconds}, got \(layers[layer]!.rendered)")
                    }
                    var row: [Int: Double] = [:]
                    for c in entries.keys.sorted() {
                        guard let idx = names.firstIndex(of: c) else {
                            throw r.fail("\(p).\(c)", "unknown candidate \"\(c)\"; the profile's candidates are \(names.joined(separator: ", "))")
                        }
                        row[idx] = try r.number(entries[c]!, "\(p).\(c)", nonNegative: true)
                    }
                    table[layer] = row
                }
                latency = .table(table)
            default:
                throw r.fail("latency.model", "got \(model.rendered); allowed: \"roofline\" or \"table\"")
            }
        }

        self.init(name: name, description: description, source: source, candidates: candidates, opSupport: opSupport,
                  defaultSupport: defaultSupport, equalPrecisionInputs: equal, size: size, latency: latency)
    }

    /// Checks that a latency table covers every layer of `problem` for every candidate its group allows
    /// (candidates are matched by name). Roofline profiles and profiles without latency pass.
    public func validateLatencyTable(for problem: PlanningProblem) throws {
        guard case .table(let table) = latency else { return }
        for (g, group) in problem.groups.enumerated() {
            let allowedNames = problem.effectiveAllowed(g).map { problem.candidates[$0].name }
            for layer in group.layers {
                let row = table[layer.name] ?? [:]
                let missing = allowedNames.filter { n in candidateIndex(named: n).flatMap { row[$0] } == nil }
                if !missing.isEmpty {
                    throw HardwareProfileError.latencyTableMissing(profile: name, layer: layer.name, candidates: missing)
                }
            }
        }
    }
}
