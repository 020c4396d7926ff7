import MPQGraph

/// An array read from a NumPy `.npy` file (or an `.npz` member), converted to a `Tensor` in C order.
///
/// float16/32/64 become float32; signed and unsigned integers become int64; booleans stay booleans.
/// The original dtype and source are kept for messages.
public struct NumpyArray: Sendable, Equatable {
    /// The elements in C (row-major) order.
    public var tensor: Tensor
    /// The element type as the file declared it, e.g. `<f8`.
    public var dtype: NumpyDType
    /// Where the array came from, for messages: a path, or `archive.npz[name]` for an archive member.
    public var source: String
    /// Whether the file stored the elements in Fortran (column-major) order.
    public var wasFortranOrder: Bool
    /// The first dimension the file declared, when only a prefix of its samples was read (`maxSamples`).
    public var fileSampleCount: Int? = nil

    public init(tensor: Tensor, dtype: NumpyDType, source: String, wasFortranOrder: Bool = false) {
        self.tensor = tensor
        self.dtype = dtype
        self.source = source
        self.wasFortranOrder = wasFortranOrder
    }

    public var shape: [Int] { tensor.shape }
}
