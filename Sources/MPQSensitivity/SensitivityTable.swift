import Foundation
import MPQLAPQ

/// Calibration loss increase of each (group, candidate), measured with that group alone quantized.
///
/// Keyed by everything that determines the numbers (model, data, profile, settings), so a stored
/// table is reused only when it is valid, and filled group by group so an interrupted sweep resumes.
public struct SensitivityTable: Sendable, Codable, Equatable {
    public static let formatVersion = 2

    public var formatVersion = SensitivityTable.formatVersion
    /// Hash of model, data, profile and settings.
    public var key: String
    /// What the key covers, for people reading the file.
    public var description: [String: String]
    public var groups: [String]
    public var candidates: [String]
    /// FP32 calibration loss.
    public var referenceLoss: Double
    /// Loss increase per group (by name) and candidate (by name); absent = not measured yet,
    /// nil = candidate not allowed for the group.
    public var increases: [String: [String: Double?]]
    /// Seconds spent measuring each group.
    public var seconds: [String: Double]
    /// The quantizers the step search chose for each group (by name) at each candidate (by name):
    /// composed, they give any plan's quantizers without another search (`PlanMeasurement`).
    public var quantizers: [String: [String: [TensorQuantizer]]]

    public init(key: String, description: [String: String], groups: [String], candidates: [String], referenceLoss: Double) {
        self.key = key
        self.description = description
        self.groups = groups
        self.candidates = candidates
        self.referenceLoss = referenceLoss
        self.increases = [:]
        self.seconds = [:]
        self.quantizers = [:]
    }

    /// Whether every group has been measured.
    public var isComplete: Bool { groups.allSatisfy { increases[$0] != nil } }

    /// The matrix [group][candidate] for the planner (nil where not allowed).
    public func matrix() -> [[Double?]] {
        groups.map { g in candidates.map { c in increases[g]?[c] ?? nil } }
    }

    /// The matrix with measurement noise removed: increases below zero become zero (quantizing
    /// one group cannot really improve the model), and a candidate at least as precise as another
    /// in both weights and activations never costs more loss than it (as ModelOpt forces).
    ///
    /// `precision` gives (weight bits, activation bits) per candidate.
    public func regularizedMatrix(precision: [(Int, Int)]) -> [[Double?]] {
        matrix().map { row in
            let clamped = row.map { $0.map { max($0, 0) } }
            return clamped.indices.map { c in
                guard let value = clamped[c] else { return nil }
                var best = value
                for d in clamped.indices where d != c {
                    guard let other = clamped[d], precision[c].0 >= precision[d].0, precision[c].1 >= precision[d].1 else { continue }
                    best = min(best, other)
                }
                return best
            }
        }
    }

    /// Reads a stored table, or nil when none exists at `url`.
    public static func load(from url: URL) throws -> SensitivityTable? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let data = try Data(contentsOf: url)
            // A table of another format version is stale, not broken: it is measured again.
            struct Header: Decodable { var formatVersion: Int? }
            guard try JSONDecoder().decode(Header.self, from: data).formatVersion == formatVersion else { return nil }
            return try JSONDecoder().decode(SensitivityTable.self, from: data)
        } catch {
            throw SensitivityError.cacheUnreadable(path: url.path, reason: "\(error)")
        }
    }

    /// Writes the table atomically (a temporary file renamed into place), so a kill never leaves a torn file.
    public func save(to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw SensitivityError.cacheWriteFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// A 64-bit FNV-1a content hash, for cache keys (not for security).
public struct ContentHash: Sendable {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var h = state
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        state = h
    }

    public mutating func combine(_ data: Data) { data.withUnsafeBytes { combine($0) } }
    public mutating func combine(_ text: String) { combine(Data(text.utf8)) }
    public mutating func combine<T>(_ values: [T]) { values.withUnsafeBytes { combine($0) } }

    public var hex: String { String(format: "%016llx", state) }
}
