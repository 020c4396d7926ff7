import Foundation

/// What an accelerator can run and what it costs: the candidates, which op types accept which candidates,
/// and the size and latency models used by budgets.
///
/// Profiles are JSON files (`hardware-profiles/README.md` documents every field); `HardwareProfile(json:origin:)`
/// validates one and reports every problem with its JSON path, the offending value and what is allowed.
public struct HardwareProfile: Sendable, Equatable {
    /// The only `format_version` this code reads.
    public static let formatVersion = 1

    /// Which candidates an op type accepts.
    public enum OpSupport: Sendable, Equatable {
        /// The named candidates (indices into `candidates`, in the order the profile lists them).
        case candidates([Int])
        /// The op stays in floating point; it takes no part in the plan.
        case floatOnly
    }

    /// Storage overhead of quantization parameters, per scale/zero-point set
    /// (one per output channel for per-channel candidates, one per tensor otherwise).
    public struct SizeModel: Sendable, Equatable {
        /// Bits stored per scale (32 for an FP32 scale; 64 for CMSIS-NN's int32 multiplier + int32 shift).
        public var scaleBits: Int
        /// Bits stored per zero point; counted only for asymmetric integer candidates.
        public var zeroPointBits: Int

        public init(scaleBits: Int, zeroPointBits: Int) {
            self.scaleBits = scaleBits
            self.zeroPointBits = zeroPointBits
        }
    }

    /// Throughput of one candidate in the roofline model.
    public struct RooflineRate: Sendable, Equatable {
        public var macsPerCycle: Double
        public var bytesPerCycle: Double

        public init(macsPerCycle: Double, bytesPerCycle: Double) {
            self.macsPerCycle = macsPerCycle
            self.bytesPerCycle = bytesPerCycle
        }
    }

    /// How a layer's latency is estimated.
    public enum LatencyModel: Sendable, Equatable {
        /// cycles = max(MACs / macs_per_cycle, bytes moved / bytes_per_cycle); ms = cycles / (clock_mhz * 1000).
        /// `perCandidate` is indexed like `candidates`.
        case roofline(clockMHz: Double, perCandidate: [RooflineRate])
        /// Measured milliseconds per layer name and candidate index.
        case table([String: [Int: Double]])
    }

    public var name: String
    public var description: String
    /// Where the numbers come from (datasheets, documentation, measurements).
    public var source: String
    public var candidates: [Candidate]
    /// Support per op type; op types not listed fall back to `defaultSupport`.
    public var opSupport: [String: OpSupport]
    /// Support for op types not listed in `opSupport` (the `"*"` key; every candidate when absent).
    public var defaultSupport: OpSupport
    /// Op types whose inputs must share one precision (Add, Concat, ...).
    public var equalPrecisionInputs: Set<String>
    public var size: SizeModel
    /// nil when the profile has no latency model (latency budgets are then rejected).
    public var latency: LatencyModel?

    public init(name: String, description: String = "", source: String = "", candidates: [Candidate],
                opSupport: [String: OpSupport] = [:], defaultSupport: OpSupport? = nil,
                equalPrecisionInputs: Set<String> = [], size: SizeModel = SizeModel(scaleBits: 32, zeroPointBits: 8),
                latency: LatencyModel? = nil) {
        self.name = name
        self.description = description
        self.source = source
        self.candidates = candidates
        self.opSupport = opSupport
        self.defaultSupport = defaultSupport ?? .candidates(Array(candidates.indices))
        self.equalPrecisionInputs = equalPrecisionInputs
        self.size = size
        self.latency = latency
    }

    /// The index of the candidate with this name (exact match).
    public func candidateIndex(named name: String) -> Int? {
        candidates.firstIndex { $0.name == name }
    }

    /// What the profile allows for one op type.
    public func support(forOpType opType: String) -> OpSupport {
        opSupport[opType] ?? defaultSupport
    }

    /// Candidates every op in a group accepts (sorted indices), or nil when some op is float-only.
    public func allowedCandidates(forOpTypes opTypes: [String]) -> [Int]? {
        var allowed = Set(candidates.indices)
        for op in opTypes {
            switch support(forOpType: op) {
            case .floatOnly: return nil
            case .candidates(let list): allowed.formIntersection(list)
            }
        }
        return allowed.sorted()
    }

    /// Op types the profile runs only in floating point.
    public var floatOnlyOpTypes: Set<String> {
        Set(opSupport.compactMap { $0.value == .floatOnly ? $0.key : nil })
    }

    /// Whether inputs of this op type must share a precision.
    public func requiresEqualPrecisionInputs(_ opType: String) -> Bool {
        equalPrecisionInputs.contains(opType)
    }
}

// MARK: Loading

extension HardwareProfile {
    /// Reads and validates a profile file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try StrictJSON.read(url)
        } catch let problem as StrictJSON.Problem {
            throw HardwareProfileError.unreadable(path: url.path, reason: problem.reason)
        }
        try self.init(json: data, origin: url.path)
    }

    /// The names (file names without `.json`) of the profiles in the given directories, sorted, without duplicates.
    public static func availableNames(in directories: [URL]) -> [String] {
        var names = Set<String>()
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files where f.hasSuffix(".json") { names.insert(String(f.dropLast(5))) }
        }
        return names.sorted()
    }

    /// Loads `NAME.json` from `directory` (the repository's or installation's `hardware-profiles`).
    public static func bundled(named name: String, in directory: URL) throws -> HardwareProfile {
        try load(nameOrPath: name, searchDirectories: [directory])
    }

    /// Loads a profile by path (anything containing `/` or ending in `.json`, when that file exists) or by
    /// name from the first search directory that has `NAME.json`. When nothing matches, the error lists the
    /// names available in `searchDirectories`.
    public static func load(nameOrPath: String, searchDirectories: [URL]) throws -> HardwareProfile {
        let fm = FileManager.default
        let looksLikePath = nameOrPath.contains("/") || nameOrPath.hasSuffix(".json")
        if looksLikePath {
            if fm.fileExists(atPath: nameOrPath) {
                return try HardwareProfile(contentsOf: URL(fileURLWithPath: nameOrPath))
            }
            if nameOrPath.contains("/") {
                throw HardwareProfileError.notFound(nameOrPath: nameOrPath, searched: searchDirectories.map(\.path),
                                                    available: availableNames(in: searchDirectories))
            }
        }
        let base = nameOrPath.hasSuffix(".json") ? String(nameOrPath.dropLast(5)) : nameOrPath
        for dir in searchDirectories {
            let url = dir.appendingPathComponent(base + ".json")
            if fm.fileExists(atPath: url.path) { return try HardwareProfile(contentsOf: url) }
        }
        throw HardwareProfileError.notFound(nameOrPath: nameOrPath, searched: searchDirectories.map(\.path),
                                            available: availableNames(in: searchDirectories))
    }
}
