/// A dense, row-major (C order) tensor: a shape and its elements.
///
/// Storage is a copy-on-write Swift array, so tensors are cheap to pass around and safe to share.
public struct Tensor: Sendable, Equatable {
    /// The elements, by element type.
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
        case bool([Bool])
    }

    /// Dimensions, outermost first. A scalar has an empty shape.
    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
        precondition(Tensor.count(of: shape) == storageCount, "tensor shape \(shape) does not match \(storageCount) elements")
    }

    /// A float32 tensor.
    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, storage: .float(floats)) }
    /// An int64 tensor.
    public init(shape: [Int], int64s: [Int64]) { self.init(shape: shape, storage: .int64(int64s)) }
    /// A boolean tensor.
    public init(shape: [Int], bools: [Bool]) { self.init(shape: shape, storage: .bool(bools)) }

    /// A float32 tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, floats: [Float](repeating: 0, count: count(of: shape)))
    }

    /// A float32 scalar.
    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], floats: [value]) }

    /// Number of elements implied by a shape (1 for a scalar).
    public static func count(of shape: [Int]) -> Int { shape.reduce(1, *) }

    public var elementType: ElementType {
        switch storage {
        case .float: return .float32
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// Number of elements.
    public var count: Int { Tensor.count(of: shape) }
    public var rank: Int { shape.count }

    private var storageCount: Int {
        switch storage {
        case .float(let v): return v.count
        case .int64(let v): return v.count
        case .bool(let v): return v.count
        }
    }

    /// The float32 elements, or nil for other element types.
    public var floats: [Float]? {
        if case .float(let v) = storage { return v }
        return nil
    }

    /// The int64 elements, or nil for other element types.
    public var int64s: [Int64]? {
        if case .int64(let v) = storage { return v }
        return nil
    }

    /// The boolean elements, or nil for other element types.
    public var bools: [Bool]? {
        if case .bool(let v) = storage { return v }
        return nil
    }

    /// Elements converted to float32 whatever the element type (booleans become 0 or 1).
    public var asFloats: [Float] {
        switch storage {
        case .float(let v): return v
        case .int64(let v): return v.map { Float($0) }
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// Elements converted to int64 whatever the element type (floats truncate toward zero).
    public var asInt64s: [Int64] {
        switch storage {
        case .float(let v): return v.map { Int64($0) }
        case .int64(let v): return v
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        }
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }
}
