/// The element types a tensor can hold in the graph IR.
///
/// Execution is float32. Wider or narrower float types are converted to float32 on import;
/// integer types used for shapes and indices are kept as int64; booleans stay booleans.
public enum ElementType: String, Sendable, Hashable, CustomStringConvertible {
    case float32
    case int64
    case bool

    public var description: String { rawValue }
}
