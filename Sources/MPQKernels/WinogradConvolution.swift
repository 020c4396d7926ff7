import Foundation

/// A 3×3, stride-1 convolution computed as Winograd F(2×2, 3×3) on channel-blocked activations.
///
/// Each 2×2 output tile comes from a 4×4 input tile: both are transformed (`Bᵀ d B`, `Aᵀ m A`, additions only) and
/// the channels are mixed by 16 independent products (one per point of the transformed tile) of 16 multiply-adds
/// per input–output channel pair where the direct convolution needs 36: 2.25× fewer. oneDNN 2.6 has Winograd
/// kernels for AVX-512 only; on AVX2 its direct 3×3 kernels ran ResNet-18's layers 2–7 % slower than ONNX Runtime's
/// (docs/benchmarks.md). The products use a 6-tile × 16-channel register block (12 FMA accumulators), over blocks of
/// tiles whose transformed inputs stay in cache.
///
/// Activations are `[N][C / b][H][W][b]` (`b` = 8 or 16, `ChannelBlocks.size` in the executor); weights are
/// transformed once per weight array (`transformedWeights`). F(2×2, 3×3) rounds like a direct convolution (its
/// transforms multiply by ½ and ±1 only); outputs differ from oneDNN's by float rounding (tested within 1e-5).
public struct WinogradConvolution: Sendable {
    public let shape: Conv2DShape
    /// Channels per block of the activations.
    public let blockSize: Int
    public let activation: Activation
    /// With a residual: the output buffer holds it on entry, `output = residual(activation(conv + bias) + output)`.
    public let residual: Activation?

    /// Tiles per block (a multiple of the register block's 6): their transformed inputs, 16 × tiles × channels
    /// floats, are reused by every output channel. A tuning knob (`MPQ_WINOGRAD_TILES`).
    nonisolated(unsafe) public static var blockTiles = max(6, (Int(ProcessInfo.processInfo.environment["MPQ_WINOGRAD_TILES"] ?? "") ?? 96) / 6 * 6)

    /// Weights of the largest layer run as Winograd (`MPQ_WINOGRAD_MAX_WEIGHTS`). Its transformed weights take 16/9 of
    /// the weights' memory beside them (the direct kernels' reordered copy takes 1×): ResNet-18's three 512-channel
    /// 3×3 layers (2.4 M weights each) ran 1.4× faster as Winograd but added 33 MB to the 135 MB peak resident set of a
    /// forward pass, more than it had when the executor's speed work began (157 MB), so layers that large stay direct.
    nonisolated(unsafe) public static var maximumWeights = Int(ProcessInfo.processInfo.environment["MPQ_WINOGRAD_MAX_WEIGHTS"] ?? "") ?? (1 << 20)

    /// False when `MPQ_WINOGRAD=0` (side-by-side comparisons with oneDNN's direct kernels).
    public static let enabled = ProcessInfo.processInfo.environment["MPQ_WINOGRAD"] != "0"

    /// The convolution, or nil when it is not a 3×3 stride-1 undilated dense convolution over whole blocks of input
    /// channels and a multiple of 8 output channels, with activations Winograd applies in registers (none, ReLU, Clip).
    public init?(_ shape: Conv2DShape, blockSize: Int, activation: Activation = .none, residual: Activation? = nil) {
        let h = shape.window.height, w = shape.window.width
        guard blockSize == 8 || blockSize == 16, shape.group == 1, shape.outputCount > 0,
              h.kernel == 3, w.kernel == 3, h.stride == 1, w.stride == 1, h.dilation == 1, w.dilation == 1,
              shape.inChannels % blockSize == 0, shape.outChannels % blockSize == 0,
              Self.lanes(activation) != nil, residual.map({ Self.lanes($0) != nil }) ?? true
        else { return nil }
        self.shape = shape
        self.blockSize = blockSize
        self.activation = activation
        self.residual = residual
    }

    /// Whether the executor's blocked convolutions of this form should run as Winograd: enabled, on AVX2 (8-channel
    /// blocks; oneDNN has Winograd of its own for AVX-512, and its direct kernels there are twice as wide), and at most
    /// `maximumWeights` weights.
    public static func preferred(_ shape: Conv2DShape, activation: Activation, residual: Activation?) -> WinogradConvolution? {
        guard enabled, ChannelBlocks.size == 8 else { return nil }
        guard shape.weightCount <= maximumWeights else { return nil }
        return WinogradConvolution(shape, blockSize: ChannelBlocks.size, activation: activation, residual: residual)
    }

    /// The lane form of an activation Winograd applies (none, ReLU, Clip), or nil.
    static func lanes(_ activation: Activation) -> (any LaneActivation)? {
        switch activation {
        case .none: IdentityLanes()
        case .relu: ReLULanes()
        case let .clip(lo, hi): ClipLanes(lo: lo, hi: hi)
        default: nil
        }
    }

    /// Floats of the transformed weights.
    public var transformedWeightCount: Int { 16 * shape.outChannels * shape.inChannels }

    /// `weights` (OIHW) transformed (`G g Gᵀ` per channel pair) and packed for the products: for each of the 16
    /// points, the output channels in blocks of 16 (the last of 8 when their count is not a multiple of 16), each
    /// block `[inChannels][width]`.
    public func transformedWeights(_ weights: UnsafePointer<Float>) -> [Float] {
        let cin = shape.inChannels, cout = shape.outChannels
        return [Float](unsafeUninitializedCapacity: transformedWeightCount) { u, count in
            let pointStride = cout * cin
            for k in 0..<cout {
                let k0 = k / 16 * 16, width = min(16, cout - k0)
                for c in 0..<cin {
                    let g = weights + (k * cin + c) * 9
                    let out: UnsafeMutablePointer<Float> = u.baseAddress! + (k0 * cin + c * width + (k - k0))
                    // G g (rows of the kernel combined), then each row times Gᵀ; G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
                    @inline(__always) func rowTimesGT(_ a: Float, _ b: Float, _ d: Float, _ i: Int) {
                        let p = out + 4 * i * pointStride
                        p[0] = a
                        p[pointStride] = 0.5 * (a + b + d)
                        p[2 * pointStride] = 0.5 * (a - b + d)
                        p[3 * pointStride] = d
                    }
                    rowTimesGT(g[0], g[1], g[2], 0)
                    let outer0: Float = g[0] + g[6], outer1: Float = g[1] + g[7], outer2: Float = g[2] + g[8]
                    rowTimesGT(0.5 * (outer0 + g[3]), 0.5 * (outer1 + g[4]), 0.5 * (outer2 + g[5]), 1)
                    rowTimesGT(0.5 * (outer0 - g[3]), 0.5 * (outer1 - g[4]), 0.5 * (outer2 - g[5]), 2)
                    rowTimesGT(g[6], g[7], g[8], 3)
                }
            }
            count = transformedWeightCount
        }
    }
}
