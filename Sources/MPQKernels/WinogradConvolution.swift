import Foundation
import MPQGEMM

/// A 3×3, stride-1 convolution computed as Winograd F(2×2, 3×3) on channel-blocked activations.
///
/// Each 2×2 output tile comes from a 4×4 input tile: both are transformed (`Bᵀ d B`, `Aᵀ m A`, additions only) and
/// the channels are mixed by 16 independent products (one per point of the transformed tile) of 16 multiply-adds
/// per input–output channel pair where the direct convolution needs 36: 2.25× fewer. oneDNN 2.6 has Winograd
/// kernels for AVX-512 only; on AVX2 its direct 3×3 kernels ran ResNet-18's layers 2–7 % slower than ONNX Runtime's
/// (docs/benchmarks.md). The products use a 6-tile × 16-channel register block (12 FMA accumulators), over blocks of
/// tiles whose transformed inputs stay in cache. On AVX-512 machines (16-channel blocks) the transforms and a 12-tile
/// register block run in 16-lane registers (`MPQGEMM.WinogradTiles16`, `RegisterBlock12x16`), with the same bits:
/// 1.2–1.4× oneDNN's direct AVX-512 kernel on ResNet-18's 64- to 256-channel layers.
///
/// Activations are `[N][C / b][H][W][b]` (`b` = 8 or 16, `ChannelBlocks.size` in the executor); weights are
/// prepared once per weight array (`preparedWeights`). F(2×2, 3×3) rounds like a direct convolution (its
/// transforms multiply by ½ and ±1 only); outputs differ from a direct convolution's by float rounding (tested within 1e-4).
public struct WinogradConvolution: Sendable {
    public let shape: Conv2DShape
    /// Channels per block of the activations.
    public let blockSize: Int
    public let activation: Activation
    /// With a residual: the output buffer holds it on entry, `output = residual(activation(conv + bias) + output)`.
    public let residual: Activation?
    /// Whether the weights are kept in output-channel panels and each panel is transformed when a call reaches it,
    /// instead of keeping the transformed weights (see `maximumWeights`).
    public let transformsPerCall: Bool
    /// Whether it takes the AVX-512 register blocks and transforms where the CPU has them (false: the eight-lane
    /// ones, for tests that compare the two bit for bit).
    var usesWideRegisters = true

    /// Tiles per block (a multiple of 12, the AVX-512 register block's rows): their transformed inputs, 16 × tiles × channels
    /// floats, are reused by every output channel. A tuning knob (`MPQ_WINOGRAD_TILES`).
    nonisolated(unsafe) public static var blockTiles = max(12, (Int(ProcessInfo.processInfo.environment["MPQ_WINOGRAD_TILES"] ?? "") ?? 96) / 12 * 12)

    /// Weights of the largest layer whose transformed weights are kept (`MPQ_WINOGRAD_MAX_WEIGHTS`). They take 16/9 of
    /// the weights' memory beside them (the direct kernels' reordered copy takes 1×): kept for ResNet-18's three
    /// 512-channel 3×3 layers (2.4 M weights each) they added 33 MB to the 135 MB peak resident set of a forward pass,
    /// more than it had when the executor's speed work began (157 MB). Larger layers keep a copy of their weights in
    /// panels of output channels (1×) and transform each panel per call.
    nonisolated(unsafe) public static var maximumWeights = Int(ProcessInfo.processInfo.environment["MPQ_WINOGRAD_MAX_WEIGHTS"] ?? "") ?? (1 << 20)

    /// False when `MPQ_WINOGRAD=0` (side-by-side comparisons with oneDNN's direct kernels).
    public static let enabled = ProcessInfo.processInfo.environment["MPQ_WINOGRAD"] != "0"
    /// False when `MPQ_WINOGRAD_PER_CALL=0`: layers over `maximumWeights` then stay on oneDNN's direct kernels.
    public static let transformsLargeLayers = ProcessInfo.processInfo.environment["MPQ_WINOGRAD_PER_CALL"] != "0"

    /// The convolution, or nil when it is not a 3×3 stride-1 undilated dense convolution over whole blocks of input
    /// channels and a multiple of 8 output channels, with activations Winograd applies in registers (none, ReLU, Clip).
    /// `transformsPerCall` defaults to whether the layer has more than `maximumWeights` weights.
    public init?(_ shape: Conv2DShape, blockSize: Int, activation: Activation = .none, residual: Activation? = nil,
                 transformsPerCall: Bool? = nil) {
        let h = shape.window.height, w = shape.window.width
        guard blockSize == 8 || blockSize == 16, shape.group == 1, shape.outputCount > 0,
              h.kernel == 3, w.kernel == 3, h.stride == 1, w.stride == 1, h.dilation == 1, w.dilation == 1,
              shape.inChannels % blockSize == 0, shape.outChannels % blockSize == 0,
              Self.appliesInRegisters(activation), residual.map(Self.appliesInRegisters) ?? true
        else { return nil }
        self.shape = shape
        self.blockSize = blockSize
        self.activation = activation
        self.residual = residual
        self.transformsPerCall = transformsPerCall ?? (shape.weightCount > Self.maximumWeights)
    }

    /// Whether the executor's blocked convolutions of this form should run as Winograd: enabled; on AVX2 (8-channel
    /// blocks) always, and on AVX-512 (16-channel blocks, AVX-512 transforms and products) where the transformed
    /// weights are kept: transformed per call, ResNet-18's 512-channel layers ran at 0.5–0.7× oneDNN's direct kernel
    /// there, whose AVX-512 form is twice as wide as its AVX2 one (docs/benchmarks.md).
    public static func preferred(_ shape: Conv2DShape, activation: Activation, residual: Activation?) -> WinogradConvolution? {
        guard enabled else { return nil }
        switch ChannelBlocks.size {
        case 8: guard transformsLargeLayers || shape.weightCount <= maximumWeights else { return nil }
        case 16: guard TileGrid.wideRegisters, shape.weightCount <= maximumWeights else { return nil }
        default: return nil
        }
        return WinogradConvolution(shape, blockSize: ChannelBlocks.size, activation: activation, residual: residual)
    }

    /// Whether the tile epilogues apply `activation` in registers (none, ReLU, Clip: `TileActivation16`'s forms, and
    /// `TileEpilogue`'s lane forms of the same).
    static func appliesInRegisters(_ activation: Activation) -> Bool { TileActivation16(activation) != nil }

    /// Floats of the prepared weights: transformed (16 per channel pair), or in panels (9 per pair).
    public var preparedWeightCount: Int { (transformsPerCall ? 9 : 16) * shape.outChannels * shape.inChannels }

    /// `weights` (OIHW) as `forward` reads them: transformed (`transformedWeights`), or with `transformsPerCall` in
    /// panels of 16 output channels (the last of 8 when their count is not a multiple of 16), each `[inChannels][9][width]`.
    public func preparedWeights(_ weights: UnsafePointer<Float>) -> [Float] {
        transformsPerCall ? inPanels(weights) : transformedWeights(weights)
    }

    /// Floats of the transformed weights.
    public var transformedWeightCount: Int { 16 * shape.outChannels * shape.inChannels }

    /// `weights` (OIHW) transformed (`G g Gᵀ` per channel pair) and packed for the products: for each of the 16
    /// points, the output channels in blocks of 16 (the last of 8 when their count is not a multiple of 16), each
    /// block `[inChannels][width]`.
    public func transformedWeights(_ weights: UnsafePointer<Float>) -> [Float] {
        let panels = inPanels(weights)
        let (cin, cout) = (shape.inChannels, shape.outChannels)
        return [Float](unsafeUninitializedCapacity: transformedWeightCount) { u, count in
            panels.withUnsafeBufferPointer { g in
                for k0 in stride(from: 0, to: cout, by: 16) {
                    Self.transformPanel(g.baseAddress! + k0 * cin * 9, inChannels: cin, width: min(16, cout - k0),
                                        into: u.baseAddress! + k0 * cin, pointStride: cout * cin)
                }
            }
            count = transformedWeightCount
        }
    }

    /// `weights` (OIHW) in panels of 16 output channels (the last of 8 when their count is not a multiple of 16), each
    /// `[inChannels][9][width]`: what `transformPanel` reads, eight output channels per vector.
    func inPanels(_ weights: UnsafePointer<Float>) -> [Float] {
        let cin = shape.inChannels, cout = shape.outChannels
        return [Float](unsafeUninitializedCapacity: 9 * cout * cin) { out, count in
            for k in 0..<cout {
                let k0 = k / 16 * 16, width = min(16, cout - k0)
                for c in 0..<cin {
                    for tap in 0..<9 { out[k0 * cin * 9 + (c * 9 + tap) * width + (k - k0)] = weights[(k * cin + c) * 9 + tap] }
                }
            }
            count = 9 * cout * cin
        }
    }

    /// One panel of `width` output channels transformed: `G g Gᵀ` for each input channel, point `p` of channel `c` at
    /// `into + p · pointStride + c · width`. G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
    @inline(__always)
    static func transformPanel(_ panel: UnsafePointer<Float>, inChannels cin: Int, width: Int,
                               into: UnsafeMutablePointer<Float>, pointStride: Int) {
        for c in 0..<cin {
            for lane in stride(from: 0, to: width, by: 8) {
                let g = panel + c * 9 * width + lane
                @inline(__always) func tap(_ t: Int) -> SIMD8<Float> { load8(g + t * width) }
                let out = into + c * width + lane
                // Each row of G g times Gᵀ: (a, ½(a + b + d), ½(a − b + d), d).
                @inline(__always) func row(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ d: SIMD8<Float>, _ i: Int) {
                    let p = out + 4 * i * pointStride
                    let half = SIMD8<Float>(repeating: 0.5)
                    store8(a, p)
                    store8(half * (a + b + d), p + pointStride)
                    store8(half * (a - b + d), p + 2 * pointStride)
                    store8(d, p + 3 * pointStride)
                }
                let half = SIMD8<Float>(repeating: 0.5)
                let outer0 = tap(0) + tap(6), outer1 = tap(1) + tap(7), outer2 = tap(2) + tap(8)
                row(tap(0), tap(1), tap(2), 0)
                row(half * (outer0 + tap(3)), half * (outer1 + tap(4)), half * (outer2 + tap(5)), 1)
                row(half * (outer0 - tap(3)), half * (outer1 - tap(4)), half * (outer2 - tap(5)), 2)
                row(tap(6), tap(7), tap(8), 3)
            }
        }
    }
}
