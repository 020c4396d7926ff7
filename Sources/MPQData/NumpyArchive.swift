import Foundation
import ZIPFoundation

/// A NumPy `.npz` archive (`numpy.savez` or `numpy.savez_compressed`): named `.npy` members in a zip file.
public struct NumpyArchive {
    /// The archive's path, for messages.
    public let path: String
    /// Array names (member names without the `.npy` suffix), in archive order.
    public let names: [String]
    private let archive: Archive
    private let memberPaths: [String: String]

    /// Opens an archive and lists its arrays; arrays are read on demand.
    public init(contentsOf url: URL) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw DataError.unreadableFile(path: path, reason: "it is a directory") }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw DataError.notNpzFile(path: path, reason: "it is not a zip archive: \(error)")
        }
        var names: [String] = []
        var members: [String: String] = [:]
        for entry in archive where entry.type == .file {
            let member = entry.path
            let name = member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
            guard members[name] == nil else { continue }
            names.append(name)
            members[name] = member
        }
        self.path = path
        self.names = names
        self.archive = archive
        self.memberPaths = members
    }

    /// Reads the array called `name` (with or without the `.npy` suffix).
    public func array(named name: String) throws -> NumpyArray {
        let key = name.hasSuffix(".npy") && memberPaths[name] == nil ? String(name.dropLast(4)) : name
        guard let member = memberPaths[key], let entry = archive[member] else {
            throw DataError.npzMemberMissing(path: path, member: name, available: names)
        }
        var data = Data()
        do {
            _ = try archive.extract(entry, skipCRC32: false) { chunk in data.append(chunk) }
        } catch {
            throw DataError.notNpzFile(path: path, reason: "member '\(member)' cannot be extracted: \(error)")
        }
        return try NumpyArray(npyData: data, source: "\(path)[\(key)]")
    }

    /// Reads every array, by name.
    public func arrays() throws -> [String: NumpyArray] {
        var result: [String: NumpyArray] = [:]
        for name in names { result[name] = try array(named: name) }
        return result
    }
}
