/// A weight/activation bit-width pair, written like `W4A8`.
public struct BitWidths: Sendable, Hashable, Codable, CustomStringConvertible {
    public var weight: Int
    public var activation: Int

    public init(weight: Int, activation: Int) {
        self.weight = weight
        self.activation = activation
    }

    /// Parses `W4A8` (case-insensitive); nil when malformed or outside 2…16 bits.
    public init?(_ text: String) {
        let upper = text.uppercased()
        guard upper.hasPrefix("W"), let a = upper.firstIndex(of: "A"),
              let w = Int(upper[upper.index(after: upper.startIndex)..<a]),
              let x = Int(upper[upper.index(after: a)...]),
              (2...16).contains(w), (2...16).contains(x) else { return nil }
        self.init(weight: w, activation: x)
    }

    public var description: String { "W\(weight)A\(activation)" }
}
