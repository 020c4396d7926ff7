import MPQGraph

/// Transforms applied to named tensors as the executor produces or reads them.
///
/// A hook on an initializer (a weight) changes what every consumer reads; a hook on an
/// activation or graph input changes the value right after it is produced. Fake quantization
/// is the main use: the hook rounds the tensor onto a grid.
public struct TensorHooks: Sendable {
    /// Takes ownership of the tensor, so a transform may rewrite a uniquely referenced buffer in place
    /// (the executor hands over freshly produced activations that nothing else holds).
    public typealias Transform = @Sendable (consuming Tensor) -> Tensor

    /// Reads a tensor whose buffer stays shared and returns the transformed copy.
    public typealias OutOfPlace = @Sendable (Tensor) -> Tensor

    public var transforms: [String: Transform]
    /// Optional out-of-place forms of `transforms`, used when the executor keeps the unhooked value as well:
    /// one pass from the shared buffer into a new one, where the in-place transform would copy first.
    public var outOfPlace: [String: OutOfPlace] = [:]

    public init(_ transforms: [String: Transform] = [:]) { self.transforms = transforms }

    public static let none = TensorHooks()

    public subscript(name: String) -> Transform? {
        get { transforms[name] }
        set { transforms[name] = newValue }
    }

    public var isEmpty: Bool { transforms.isEmpty }

    /// The hook on `name` applied to a tensor that stays shared (nil when `name` has none).
    func applied(_ name: String, toShared tensor: Tensor) -> Tensor? {
        if let copying = outOfPlace[name] { return copying(tensor) }
        return transforms[name].map { $0(copy tensor) }
    }
}
