/// A dimension as a model declares it: a fixed size, a named symbol (such as a batch axis), or unknown.
public enum Dimension: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)
    case unknown

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .symbolic(let s): return s
        case .unknown: return "?"
        }
    }
}

/// A declared graph input or output: name, element type and (possibly symbolic) shape.
public struct ValueInfo: Sendable, Hashable {
    public var name: String
    /// The declared element type; nil when the model does not say or uses a type mpq converts.
    public var elementType: ElementType?
    /// The declared ONNX element type name, kept for messages (e.g. "float32", "float16").
    public var declaredTypeName: String
    /// Declared dimensions; nil when the rank is unknown.
    public var shape: [Dimension]?

    public init(name: String, elementType: ElementType?, declaredTypeName: String, shape: [Dimension]?) {
        self.name = name
        self.elementType = elementType
        self.declaredTypeName = declaredTypeName
        self.shape = shape
    }

    /// The shape as text, e.g. `[N, 1, 8, 8]`.
    public var shapeDescription: String {
        guard let shape else { return "[?]" }
        return "[" + shape.map(\.description).joined(separator: ", ") + "]"
    }

    /// Whether a concrete shape fits the declaration (symbolic and unknown dimensions match anything).
    public func accepts(shape concrete: [Int]) -> Bool {
        guard let shape else { return true }
        guard shape.count == concrete.count else { return false }
        for (d, n) in zip(shape, concrete) {
            if case .fixed(let f) = d, f != n { return false }
        }
        return true
    }
}
