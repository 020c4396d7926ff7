import Foundation
import MPQSensitivity
import Testing

/// Shards: parsing, file names, and an assignment every process computes alike that balances the groups' costs.
@Test func shardAssignmentIsDeterministicAndBalanced() throws {
    #expect(try SensitivityShard(parsing: "2/3") == SensitivityShard(index: 2, count: 3))
    for bad in ["3/3", "-1/3", "1", "a/b", "1/0", "0/"] {
        #expect(throws: ShardError.self) { try SensitivityShard(parsing: bad) }
    }
    let table = URL(fileURLWithPath: "/cache/sensitivity-0123456789abcdef.json")
    let file = try SensitivityShard(parsing: "1/3").file(besides: table)
    #expect(file.lastPathComponent == "sensitivity-0123456789abcdef.shard-1-of-3.json")

    // LPT by hand: 10 → shard 0, 9 → 1, 8 → 2, then 3 → 2 (lightest, 8), 2 → 1 (lightest, 9), 1 → 0 (lightest, 10).
    #expect(SensitivityShard.assignment(costs: [3, 10, 1, 9, 2, 8], count: 3) == [2, 0, 0, 1, 1, 2])
    var generator = SystemRandomNumberGenerator()
    let costs = (0..<60).map { _ in Int.random(in: 1...1_000_000, using: &generator) }
    let a = SensitivityShard.assignment(costs: costs, count: 4)
    #expect(a == SensitivityShard.assignment(costs: costs, count: 4))
    let loads = (0..<4).map { s in costs.indices.filter { a[$0] == s }.reduce(0) { $0 + costs[$1] } }
    // LPT's bound: the largest load is within the largest single cost of the smallest.
    #expect(loads.max()! - loads.min()! <= costs.max()!)
    #expect(Set(a) == [0, 1, 2, 3])
}

/// A shard killed before it wrote its table has only its journal: it is listed with its table's URL (once, also
/// when both files exist); other names are ignored.
@Test func shardFilesIncludeJournalOnlyShards() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mpq-shard-files-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let table = folder.appendingPathComponent("sensitivity-0123456789abcdef.json")
    for name in ["sensitivity-0123456789abcdef.shard-0-of-2.json", "sensitivity-0123456789abcdef.shard-0-of-2.json.journal",
                 "sensitivity-0123456789abcdef.shard-1-of-2.json.journal", "sensitivity-0123456789abcdef.json.journal",
                 "sensitivity-fedcba9876543210.shard-1-of-2.json.journal", "sensitivity-0123456789abcdef.shard-1-of-2.json.lock"] {
        #expect(FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data()))
    }
    let files = SensitivityShard.files(besides: table)
    #expect(files.map(\.shard) == [try SensitivityShard(index: 0, count: 2), try SensitivityShard(index: 1, count: 2)])
    #expect(files.map(\.url.lastPathComponent) == ["sensitivity-0123456789abcdef.shard-0-of-2.json",
                                                   "sensitivity-0123456789abcdef.shard-1-of-2.json"])
}
