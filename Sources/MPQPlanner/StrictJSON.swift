import Foundation

/// Reading the JSON files a user hands mpq (profiles, `mpq.json`, `plan.json`) with the checks Foundation
/// leaves out: a directory where a file is expected, duplicate object keys (Foundation keeps the last one
/// silently), and decoding errors rendered as one line that names the field.
public enum StrictJSON {
    /// A JSON file that cannot be used, with a one-line reason that names the file and the field.
    public struct Problem: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public init(path: String, reason: String) { self.path = path; self.reason = reason }
        public var description: String { "\(path): \(reason)" }
    }

    /// The bytes of the file at `url`, refused when it is missing, a directory, or holds a duplicate key.
    public static func read(_ url: URL) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw Problem(path: url.path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw Problem(path: url.path, reason: "is a directory, not a JSON file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw Problem(path: url.path, reason: "cannot read the file (\((error as NSError).localizedFailureReason ?? error.localizedDescription))")
        }
        try checkDuplicateKeys(data, path: url.path)
        return data
    }

    /// Decodes `T` from the file at `url` with every check of `read`.
    public static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data = try read(url)
        do { return try JSONDecoder().decode(type, from: data) } catch let error as DecodingError {
            if case .dataCorrupted(let c) = error, c.codingPath.isEmpty, let detail = syntaxError(in: data) {
                throw Problem(path: url.path, reason: "not valid JSON: \(detail)")
            }
            throw Problem(path: url.path, reason: describe(error))
        }
    }

    /// Where and why `data` is not JSON, as JSONSerialization says it ("… around line 1, column 40."); nil when it is JSON.
    public static func syntaxError(in data: Data) -> String? {
        do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            return (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        }
        return nil
    }

    /// Throws when an object in `data` names a key twice, naming the key and the object's path.
    public static func checkDuplicateKeys(_ data: Data, path: String) throws {
        if let duplicate = firstDuplicateKey(in: data) {
            throw Problem(path: path, reason: "duplicate key \"\(duplicate.key)\" in \(duplicate.object.isEmpty ? "the top-level object" : duplicate.object); each key may appear once")
        }
    }

    /// The first key an object repeats and that object's path (`a.b[2]`), or nil. Malformed JSON is left to the decoder.
    public static func firstDuplicateKey(in data: Data) -> (key: String, object: String)? {
        let bytes = [UInt8](data)
        // One frame per open container: its keys (nil for arrays), its path, and the next element's index.
        var frames: [(keys: Set<String>?, path: String, index: Int, lastKey: String?)] = []
        var i = 0
        func childPath() -> String {
            guard let top = frames.last else { return "" }
            if top.keys != nil { return top.path.isEmpty ? (top.lastKey ?? "") : top.path + "." + (top.lastKey ?? "") }
            return top.path + "[\(top.index)]"
        }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let path = childPath()
                frames.append((c == UInt8(ascii: "{") ? [] : nil, path, 0, nil))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !frames.isEmpty { frames.removeLast() }
                i += 1
            case UInt8(ascii: ","):
                if !frames.isEmpty { frames[frames.count - 1].index += 1 }
                i += 1
            case UInt8(ascii: "\""):
                var j = i + 1
                var raw: [UInt8] = []
                while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\"), j + 1 < bytes.count { raw.append(bytes[j]); j += 1 }
                    raw.append(bytes[j]); j += 1
                }
                var k = j + 1
                while k < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[k]) { k += 1 }
                if k < bytes.count, bytes[k] == UInt8(ascii: ":"), let n = frames.indices.last, frames[n].keys != nil {
                    let key = String(decoding: raw, as: UTF8.self)
                    if frames[n].keys!.contains(key) { return (key, frames[n].path) }
                    frames[n].keys!.insert(key)
                    frames[n].lastKey = key
                }
                i = j + 1
            default:
                i += 1
            }
        }
        return nil
    }

    /// A decoding error as one line naming the field: `field 'budget[0]': expected String, found a number`.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            var text = ""
            for key in c.codingPath + (extra.map { [$0] } ?? []) {
                if let i = key.intValue { text += "[\(i)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text
        }
        switch error {
        case let .typeMismatch(type, c):
            return "field '\(path(c))': expected \(typeName(type)) (\(c.debugDescription))"
        case let .valueNotFound(type, c):
            return "field '\(path(c))': expected \(typeName(type)), found null"
        case let .keyNotFound(key, c):
            return "missing field '\(path(c, key))'"
        case let .dataCorrupted(c):
            let underlying = (c.underlyingError as NSError?).map { " (\($0.userInfo[NSDebugDescriptionErrorKey] ?? $0.localizedDescription))" } ?? ""
            let field = path(c)
            return (field.isEmpty ? "not valid JSON: " : "field '\(field)': ") + c.debugDescription + underlying
        @unknown default:
            return "\(error)"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is String?.Type: return "a string"
        case is Int.Type, is Int?.Type: return "an integer"
        case is Double.Type, is Double?.Type, is Float.Type: return "a number"
        case is Bool.Type, is Bool?.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return name
        }
    }
}
