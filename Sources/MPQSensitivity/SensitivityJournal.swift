import Foundation
import MPQLAPQ

/// The groups a sweep has measured since its table was last saved, one JSON line each, in a file beside the table.
///
/// Rewriting the whole table after every group made saving quadratic in the model: MiniLM's table is 14.5 MB, and
/// its 43 rewrites took ~15 % of the sweep's CPU time, under the lock the workers share. A journal line holds only
/// its group, so an interrupted sweep still loses nothing measured; the table is written once at the end and the
/// journal removed.
public struct SensitivityJournal {
    /// The journal file: the table's path with `.journal` appended.
    public let url: URL

    /// The extension a journal adds to its table's file name.
    public static let pathExtension = "journal"

    /// The journal of the table stored at `table`.
    public init(besides table: URL) {
        url = table.appendingPathExtension(Self.pathExtension)
    }

    /// One measured group of the table with key `key`.
    public struct Entry: Codable, Equatable, Sendable {
        public var formatVersion = SensitivityTable.formatVersion
        public var key: String
        public var group: String
        public var increases: [String: Double?]
        public var quantizers: [String: [TensorQuantizer]]
        public var seconds: Double?
    }

    /// Appends `entry` as one line. Each line starts with a newline too, so a line torn by a kill stays apart
    /// from the next one (and is skipped when read).
    public func append(_ entry: Entry) throws {
        do {
            var line = Data("\n".utf8)
            line.append(try JSONEncoder().encode(entry))
            line.append(Data("\n".utf8))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) {
                guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } catch {
            throw SensitivityError.cacheWriteFailed(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The entries of the table with key `key`, in the order written; torn lines and other tables' or format
    /// versions' lines are skipped.
    public func entries(key: String) throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SensitivityError.cacheUnreadable(path: url.path, reason: error.localizedDescription)
        }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let entry = try? decoder.decode(Entry.self, from: Data(line)),
                  entry.formatVersion == SensitivityTable.formatVersion, entry.key == key else { return nil }
            return entry
        }
    }

    /// Deletes the journal (after the table holding its entries was saved).
    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

extension SensitivityTable {
    /// The journal entry of `group` as measured in this table.
    public func journalEntry(_ group: String) -> SensitivityJournal.Entry {
        .init(key: key, group: group, increases: increases[group] ?? [:], quantizers: quantizers[group] ?? [:],
              seconds: seconds[group])
    }

    /// Copies the journal's groups that this table lacks into it; returns how many were copied.
    @discardableResult
    public mutating func merge(_ journal: SensitivityJournal) throws -> Int {
        try journal.entries(key: key).filter { add($0) }.count
    }

    /// Adds `entry`'s group when this table has it and lacks its measurement; returns whether it was added.
    @discardableResult
    public mutating func add(_ entry: SensitivityJournal.Entry) -> Bool {
        guard groups.contains(entry.group), increases[entry.group] == nil else { return false }
        increases[entry.group] = entry.increases
        quantizers[entry.group] = entry.quantizers
        seconds[entry.group] = entry.seconds
        return true
    }
}
