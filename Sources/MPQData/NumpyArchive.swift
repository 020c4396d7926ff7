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
    ///
    /// With `maxSamples`, decompression stops once the header and the first `maxSamples` samples (axis 0) of a
    /// C-order array are in, so a large archive costs only what is used. The member's declared size is still checked
    /// against its header; its CRC is checked only when the whole member is read.
    public func array(named name: String, maxSamples: Int? = nil) throws -> NumpyArray {
        let key = name.hasSuffix(".npy") && memberPaths[name] == nil ? String(name.dropLast(4)) : name
        guard let member = memberPaths[key], let entry = archive[member] else {
            throw DataError.npzMemberMissing(path: path, member: name, available: names)
        }
        let source = "\(path)[\(key)]"
        var data = Data()
        var needed: Int? = nil
        do {
            _ = try archive.extract(entry, skipCRC32: maxSamples != nil) { chunk in
                data.append(chunk)
                if let maxSamples, needed == nil { needed = try Self.prefixLength(of: data, maxSamples: maxSamples, source: source) }
                if let needed, data.count >= needed { throw EnoughRead() }
            }
        } catch is EnoughRead {
            let declared = Int(clamping: entry.uncompressedSize)
            return try NumpyArray(npyData: data, source: source, maxSamples: maxSamples, fileSize: declared)
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError.notNpzFile(path: path, reason: "member '\(member)' cannot be extracted: \(error)")
        }
        return try NumpyArray(npyData: data, source: source, maxSamples: maxSamples)
    }

    /// Stops an extraction once enough bytes are in.
    private struct EnoughRead: Error {}

    /// The bytes of a `.npy` member up to the end of its first `maxSamples` samples, once its header is in
    /// (nil while the header is incomplete, or `Int.max` when the array cannot be cut: Fortran order or no samples axis).
    static func prefixLength(of data: Data, maxSamples: Int, source: String) throws -> Int? {
        let length = data.withUnsafeBytes { NumpyHeader.length(in: $0) }
        guard let length else { return data.count >= 12 ? Int.max : nil }
        guard data.count >= length else { return nil }
        let header = try data.withUnsafeBytes { try NumpyHeader.parse($0, path: source) }
        guard let first = header.shape.first, maxSamples < first, !header.fortranOrder,
              let dtype = NumpyDType(descr: header.descr) else { return Int.max }
        let sample = header.shape.dropFirst().reduce(dtype.size) { $0.multipliedReportingOverflow(by: $1).partialValue }
        let (bytes, overflow) = sample.multipliedReportingOverflow(by: maxSamples)
        return overflow ? Int.max : header.dataOffset + bytes
    }

    /// Reads every array, by name.
    public func arrays() throws -> [String: NumpyArray] {
        var result: [String: NumpyArray] = [:]
        for name in names { result[name] = try array(named: name) }
        return result
    }
}
