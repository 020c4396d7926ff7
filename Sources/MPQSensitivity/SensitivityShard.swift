import Foundation

/// One of `count` parts of a sensitivity sweep, measured by its own process (a Slurm array task, a
/// Kubernetes indexed-Job pod) into its own file beside the table.
public struct SensitivityShard: Sendable, Hashable, CustomStringConvertible {
    /// 0-based, as `SLURM_ARRAY_TASK_ID` and `JOB_COMPLETION_INDEX` are.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else { throw ShardError.malformed("\(index)/\(count)") }
        self.index = index
        self.count = count
    }

    /// Parses `I/N` (0 ≤ I < N).
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { throw ShardError.malformed(text) }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard of each group: longest-processing-time first over `costs` (heaviest group to the lightest
    /// shard, ties to the lower index), so shards take about equal time and every process computes the
    /// same assignment.
    public static func assignment(costs: [Int], count: Int) -> [Int] {
        var load = [Int](repeating: 0, count: count)
        var shard = [Int](repeating: 0, count: costs.count)
        for g in costs.indices.sorted(by: { (costs[$0], $1) > (costs[$1], $0) }) {
            let lightest = load.indices.min { (load[$0], $0) < (load[$1], $1) }!
            shard[g] = lightest
            load[lightest] += max(costs[g], 1)
        }
        return shard
    }

    /// The shard's file beside `table` (`sensitivity-KEY.json` → `sensitivity-KEY.shard-I-of-N.json`).
    public func file(besides table: URL) -> URL {
        let base = table.deletingPathExtension().lastPathComponent
        return table.deletingLastPathComponent().appendingPathComponent("\(base).shard-\(index)-of-\(count).json")
    }

    /// The shard files of `table` in its folder, with their shard; files not named like a shard are ignored. A shard
    /// still being measured (or killed) may have only its journal (`SensitivityJournal`): it is listed too, with the
    /// URL its table will have.
    public static func files(besides table: URL) -> [(shard: SensitivityShard, url: URL)] {
        let folder = table.deletingLastPathComponent()
        let prefix = table.deletingPathExtension().lastPathComponent + ".shard-"
        let journal = "." + SensitivityJournal.pathExtension
        let listed = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let names = Set(listed.map { $0.hasSuffix(journal) ? String($0.dropLast(journal.count)) : $0 })
        return names.sorted().compactMap { name -> (SensitivityShard, URL)? in
            guard name.hasPrefix(prefix), name.hasSuffix(".json") else { return nil }
            let parts = name.dropFirst(prefix.count).dropLast(5).split(separator: "-")
            guard parts.count == 3, parts[1] == "of", let i = Int(parts[0]), let n = Int(parts[2]),
                  let shard = try? SensitivityShard(index: i, count: n) else { return nil }
            return (shard, folder.appendingPathComponent(name))
        }
    }
}

/// Why shards cannot be measured or merged; each message names the file or the shards and what to run.
public enum ShardError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case foreign(path: String, key: String, expected: String)
    case mixedCounts(paths: [String])
    case missing(indices: [Int], count: Int)

    public var description: String {
        switch self {
        case .malformed(let text):
            return "shard '\(text)' is not I/N with 0 ≤ I < N (e.g. --shard 0/3)"
        case let .foreign(path, key, expected):
            return "shard file \(path) was measured for another model, data, profile or settings (key \(key), these inputs give \(expected)); delete it and run that shard again"
        case .mixedCounts(let paths):
            return "shard files split the sweep in different ways: \(paths.joined(separator: ", ")); keep the files of one shard count"
        case let .missing(indices, count):
            let list = indices.map { "\($0)/\(count)" }.joined(separator: ", ")
            return "sensitivity shards \(list) are missing or unfinished: run `mpq sensitivity --shard I/N` for each (same inputs and cache directory), or pass --measure-missing to measure them here"
        }
    }
}
