import Foundation

/// The parsed header of a `.npy` file: format version, element type, memory order and shape.
struct NumpyHeader: Equatable {
    var major: UInt8
    var minor: UInt8
    /// The `descr` value as text (for a structured dtype, the list rendered as text).
    var descr: String
    /// Whether `descr` was a plain string (structured dtypes are lists).
    var descrIsSimple: Bool
    var fortranOrder: Bool
    var shape: [Int]
    /// Offset of the first data byte.
    var dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// The bytes up to the end of the header (where the data starts), once the version and length field are in;
    /// nil while fewer bytes are available or when they are not a supported `.npy` preamble (`parse` says why).
    static func length(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else { return nil }
        let lengthSize = bytes[6] == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthSize else { return nil }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        return 8 + lengthSize + headerLength
    }

    /// Reads the preamble and header dictionary from the start of `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NumpyHeader {
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else { throw DataError.notNpyFile(path: path) }
        guard bytes.count >= 8 else { throw DataError.badHeader(path: path, reason: "the file ends after the magic string, before the version bytes") }
        let major = bytes[6], minor = bytes[7]
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw DataError.unsupportedVersion(path: path, major: major, minor: minor)
        }
        guard bytes.count >= 8 + lengthSize else {
            throw DataError.badHeader(path: path, reason: "the file ends inside the header length field (\(bytes.count) bytes in all)")
        }
        var headerLength = 0
        for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let start = 8 + lengthSize
        guard headerLength <= bytes.count - start else {
            throw DataError.badHeader(path: path, reason: "the header claims \(headerLength) bytes but only \(bytes.count - start) follow")
        }
        let headerBytes = bytes[start..<start + headerLength]
        let text: String
        if major >= 3 {
            guard let s = String(bytes: headerBytes, encoding: .utf8) else {
                throw DataError.badHeader(path: path, reason: "the version 3.0 header is not valid UTF-8")
            }
            text = s
        } else {
            // Versions 1.0 and 2.0 headers are latin-1.
            text = String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
        }
        var header = try parseDictionary(text, path: path)
        header.major = major
        header.minor = minor
        header.dataOffset = start + headerLength
        return header
    }

    /// Interprets the header text, a Python dict literal with keys 'descr', 'fortran_order' and 'shape'.
    static func parseDictionary(_ text: String, path: String) throws -> NumpyHeader {
        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text)
        } catch let e as PythonLiteral.ParseError {
            throw DataError.badHeader(path: path, reason: "\(e.reason) in \(quoted(text))")
        }
        guard case .dict(let entries) = literal else {
            throw DataError.badHeader(path: path, reason: "expected a dictionary, found \(quoted(text))")
        }
        func entry(_ key: String) throws -> PythonLiteral {
            guard let e = entries.first(where: { $0.key == key }) else {
                throw DataError.badHeader(path: path, reason: "key '\(key)' is missing from \(quoted(text))")
            }
            return e.value
        }
        let descr: String, simple: Bool
        switch try entry("descr") {
        case .string(let s): descr = s; simple = true
        case let other: descr = render(other); simple = false
        }
        guard case .bool(let fortran) = try entry("fortran_order") else {
            throw DataError.badHeader(path: path, reason: "'fortran_order' must be True or False in \(quoted(text))")
        }
        guard case .sequence(let dims) = try entry("shape") else {
            throw DataError.badHeader(path: path, reason: "'shape' must be a tuple of integers in \(quoted(text))")
        }
        var shape: [Int] = []
        for d in dims {
            guard case .integer(let n) = d, n >= 0 else {
                throw DataError.badHeader(path: path, reason: "'shape' must hold non-negative integers, found \(render(.sequence(dims)))")
            }
            shape.append(n)
        }
        return NumpyHeader(major: 1, minor: 0, descr: descr, descrIsSimple: simple, fortranOrder: fortran, shape: shape, dataOffset: 0)
    }

    private static func quoted(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let short = trimmed.count > 200 ? String(trimmed.prefix(200)) + "..." : trimmed
        return "header \"\(short)\""
    }

    static func render(_ v: PythonLiteral) -> String {
        switch v {
        case .string(let s): return "'\(s)'"
        case .integer(let n): return String(n)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .sequence(let items):
            if items.count == 1 { return "(\(render(items[0])),)" }
            return "(" + items.map(render).joined(separator: ", ") + ")"
        case .dict(let entries):
            return "{" + entries.map { "'\($0.key)': \(render($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
