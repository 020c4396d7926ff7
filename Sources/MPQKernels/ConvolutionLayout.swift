import CDNNL

/// Which side of a oneDNN convolution the caller hands over in oneDNN's channel-blocked layout instead of NCHW.
///
/// Blocked (`nChw8c` with AVX2, `nChw16c` with AVX-512: `[N][C / b][H][W][b]`) is the layout oneDNN's kernels
/// compute in. A plain side costs a reorder per call; one convolution handing its blocked result straight to the
/// next saves both (ResNet-18 b8: 15 ms of reorders per batch, docs/benchmarks.md).
public struct ConvolutionLayout: Hashable, Sendable {
    /// The input arrives blocked.
    public var blockedInput: Bool
    /// The output is written blocked.
    public var blockedOutput: Bool

    public init(blockedInput: Bool = false, blockedOutput: Bool = false) {
        self.blockedInput = blockedInput
        self.blockedOutput = blockedOutput
    }

    /// NCHW on both sides.
    public static let plain = ConvolutionLayout()

    public var isPlain: Bool { !blockedInput && !blockedOutput }
}

/// oneDNN's channel-blocked activation layout and the conversion back to NCHW.
public enum ChannelBlocks {
    /// Channels per block: 16 where oneDNN runs AVX-512 kernels, 8 otherwise (its AVX2 kernels' `nChw8c`).
    public static let size: Int = {
        let avx512 = dnnl_cpu_isa_avx512_core.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & avx512 == avx512 ? 16 : 8
    }()

    /// oneDNN's tag for the blocked layout of `size` channels.
    static var tag: dnnl_format_tag_t { size == 16 ? dnnl_nChw16c : dnnl_nChw8c }

    /// Whether a tensor of this many channels has a blocked form of the same size (no padded block).
    public static func fits(channels: Int) -> Bool { channels > 0 && channels % size == 0 }

    /// Copies `batch` images of `channels` blocked planes of `plane` pixels into NCHW (`channels` a multiple of `size`).
    public static func unblock(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                               batch: Int, channels: Int, plane: Int) {
        let b = size
        for n in 0..<batch {
            let image = n &* channels &* plane
            for block in 0..<(channels / b) {
                let from = src + image + block &* plane &* b
                let to = dst + image + block &* b &* plane
                for p in 0..<plane {
                    for k in 0..<b { to[k &* plane &+ p] = from[p &* b &+ k] }
                }
            }
        }
    }
}
