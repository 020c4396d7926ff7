import MPQGraph
import MPQQuantization

/// A tensor chosen for quantization and the grid it gets, before any step size is known.
public struct QuantizerTarget: Sendable, Equatable {
    public var name: String
    public var role: TensorQuantizer.Role
    /// Per-channel axis (weights only), or nil for per-tensor.
    public var axis: Int?
    public var grid: QuantizationGrid
    public var layer: String

    public init(name: String, role: TensorQuantizer.Role, axis: Int?, grid: QuantizationGrid, layer: String) {
        self.name = name
        self.role = role
        self.axis = axis
        self.grid = grid
        self.layer = layer
    }
}
