/// A NumPy element type as a `.npy` header's `descr` names it, e.g. `<f4`, `>i8`, `|b1`.
public struct NumpyDType: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of element mpq reads.
    public enum Kind: Sendable, Hashable {
        case float
        case signedInteger
        case unsignedInteger
        case bool
    }

    public var kind: Kind
    /// Bytes per element.
    public var size: Int
    /// Whether elements are stored most significant byte first.
    public var isBigEndian: Bool
    /// The `descr` string as written in the file.
    public var descr: String

    public var description: String { descr }

    /// The element types mpq reads (little-endian spelling; big-endian `>` variants are byte-swapped).
    public static let supportedDescriptions = ["<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "|b1"]

    /// Parses a `descr` string; nil when mpq does not read that type.
    public init?(descr: String) {
        let chars = Array(descr)
        guard chars.count >= 3 else { return nil }
        let order = chars[0]
        guard let size = Int(String(chars[2...])) else { return nil }
        let kind: Kind
        switch (chars[1], size) {
        case ("f", 2), ("f", 4), ("f", 8): kind = .float
        case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signedInteger
        case ("u", 1), ("u", 2), ("u", 4): kind = .unsignedInteger
        case ("b", 1): kind = .bool
        default: return nil
        }
        switch order {
        case "<", "=": isBigEndian = false   // "=" is native order; every platform mpq runs on is little-endian
        case ">": isBigEndian = true
        case "|": isBigEndian = false
        default: return nil
        }
        self.kind = kind
        self.size = size
        self.descr = descr
    }
}
