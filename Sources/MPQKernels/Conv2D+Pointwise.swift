import Foundation
import MPQGEMM

extension Conv2D {
    /// Input channels up to which a pointwise convolution multiplies in place (`directPointwise`) rather than
    /// through sgemm; planes of at most `directPointwisePlane` pixels always do. Measured side by side on
    /// EfficientNet-Lite's and mobilenet-digits' 1×1 shapes (docs/benchmarks.md): the direct kernel wins 1.4–2.3× on
    /// expansions from ≤ 24 channels (16→96 at 112², 24→144 at 56², 8→48 at 16²) and 1.3–2× on 4×4 planes, where
    /// sgemm's packing, the small-plane gather and the epilogue's second pass dominate; sgemm wins elsewhere (AVX-512
    /// and K blocking). `MPQ_PW_DEPTH` overrides the depth (0 sends all but the smallest planes to sgemm).
    nonisolated(unsafe) public static var directPointwiseDepth = Int(ProcessInfo.processInfo.environment["MPQ_PW_DEPTH"] ?? "") ?? 24
    /// Output planes up to this many pixels take `directPointwise` whatever their depth (`MPQ_PW_PLANE` overrides).
    nonisolated(unsafe) public static var directPointwisePlane = Int(ProcessInfo.processInfo.environment["MPQ_PW_PLANE"] ?? "") ?? 16

    /// Whether the direct kernel runs its AVX-512 form (`MPQGEMM.PointwiseTile`): when the CPU has AVX-512F, unless
    /// `MPQ_PW_AVX512=0`.
    static let usesAVX512Pointwise = GemmBackend.usesAVX512(unlessDisabledBy: "MPQ_PW_AVX512")

    /// Input bytes per pixel tile of `directPointwise` (a tuning knob: 64 KiB measured better than 256 KiB on 56² and 112² planes).
    nonisolated(unsafe) public static var pointwiseTileInputBytes = Int(ProcessInfo.processInfo.environment["MPQ_PW_TILE"] ?? "") ?? 64 * 1024

    /// Whether `Conv2D.forward` takes `directPointwise` for this shape.
    static func usesDirectPointwise(_ s: Conv2DShape) -> Bool {
        let plane = s.window.height.output * s.window.width.output
        return s.isPointwise && s.group == 1 && plane >= PointwiseBlock.columns && s.outChannels >= PointwiseBlock.rows
            && (s.inChannels <= directPointwiseDepth || plane <= directPointwisePlane)
    }

    /// A 1×1 convolution read straight from the NCHW planes: each output block is 6 channels × 16 pixels of one
    /// image (12 channels with AVX-512, `PointwiseTile`), summed over the input channels in registers, with bias and
    /// activation applied before its one store.
    ///
    /// No packing, no copy, no second pass over the output: with few input channels the product is cheap and
    /// sgemm's packing and the epilogue's re-read of the output were most of the time. Every output is the
    /// same sum in the same order whatever the split, so results do not depend on the thread count.
    static func directPointwise(_ s: Conv2DShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                activation: Activation, threads: Int) {
        switch activation {
        case .none: directPointwise(s, input, weights, bias, output, threads: threads, lanes: IdentityLanes(), clamp: .none)
        case .relu: directPointwise(s, input, weights, bias, output, threads: threads, lanes: ReLULanes(), clamp: .relu)
        case let .clip(lo, hi):
            directPointwise(s, input, weights, bias, output, threads: threads, lanes: ClipLanes(lo: lo, hi: hi), clamp: .clip(lo, hi))
        default:
            directPointwise(s, input, weights, bias, output, threads: threads, lanes: IdentityLanes(), clamp: .none)
            activation.apply(output, count: s.outputCount)
        }
    }

    private static func directPointwise<A: LaneActivation>(_ s: Conv2DShape, _ input: UnsafePointer<Float>,
                                                           _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                                           _ output: UnsafeMutablePointer<Float>, threads: Int, lanes: A,
                                                           clamp: PointwiseTile.Clamp) {
        let plane = s.window.height.output * s.window.width.output
        let width = PointwiseBlock.columns
        // Images split between tasks (the last run of a plane overlaps the previous one, so an image stays in one
        // task); a single image splits its output channels instead.
        let byImages = s.batch >= Self.minimumTasks
        let tasks = byImages ? Self.minimumTasks : max(1, min(Self.minimumTasks, s.outChannels / PointwiseBlock.rows))
        // Pixels per tile: each block of output channels sweeps a tile whose inputs stay in L2 and writes six
        // sequential rows (a whole large plane per block would write rows a plane apart, a page each, per 16 pixels).
        let tile = max(width, min(plane, (pointwiseTileInputBytes / (4 * s.inChannels)) & ~(width - 1)))
        let pin = SendablePointer(input), pw = SendablePointer(weights), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }
        Parallel.forEachChunk(count: tasks, threads: threads) { _, range in
            // AVX-512 blocks (`PointwiseTile`) of 12 channels when the task has that many, else AVX2 blocks of 6; both
            // sum in the same order, so the choice does not change a bit.
            let wide = usesAVX512Pointwise && (byImages ? s.outChannels : s.outChannels / tasks) >= PointwiseTile.rows
            let rows = wide ? PointwiseTile.rows : PointwiseBlock.rows
            let biasPointer = pbias.map { UnsafePointer($0.p) }
            let block = PointwiseBlock(depth: s.inChannels, plane: plane, weights: UnsafePointer(pw.p), bias: biasPointer)
            for task in range {
                let images = byImages ? (s.batch * task / tasks)..<(s.batch * (task + 1) / tasks) : 0..<s.batch
                let channels = byImages ? 0..<s.outChannels
                    : (s.outChannels * task / tasks)..<(s.outChannels * (task + 1) / tasks)
                for n in images {
                    let src = UnsafePointer(pin.p) + n &* s.inChannels &* plane
                    let dst = pout.p + n &* s.outChannels &* plane
                    for t0 in stride(from: 0, to: plane, by: tile) {
                        let t1 = min(plane, t0 &+ tile)
                        // Blocks of channels over the tile, the last one shifted up to end at the range's end (it
                        // recomputes a few channels).
                        var oc = channels.lowerBound
                        while oc < channels.upperBound {
                            let o = min(oc, channels.upperBound &- rows)
                            if wide {
                                PointwiseTile.run(depth: s.inChannels, plane: plane, weights: UnsafePointer(pw.p), bias: biasPointer,
                                                  source: src, destination: dst, channel: o, pixels: t0, t1, clamp: clamp)
                            } else {
                                block.sweep(channel: o, source: src, destination: dst, pixels: t0, t1, activation: lanes)
                            }
                            oc = o &+ rows
                        }
                    }
                }
            }
        }
    }
}

/// The register block of `Conv2D.directPointwise`: 6 output channels × 16 pixels, twelve 8-lane accumulators (the
/// kernels module targets AVX2's sixteen vector registers).
struct PointwiseBlock {
    static let rows = 6
    static let columns = 16
    let depth: Int, plane: Int
    let weights: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?

    /// Channels `o ..< o + 6` at pixels `t0 ..< t1` of one image, in runs of 16; the last run is shifted left to end
    /// at the plane's end (it recomputes a few pixels).
    @inline(__always)
    func sweep<A: LaneActivation>(channel o: Int, source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>,
                                  pixels t0: Int, _ t1: Int, activation: A) {
        var next = t0
        while next < t1 {
            let p = min(next, plane &- Self.columns)
            compute(channel: o, source: source + p, destination: destination + p, activation: activation)
            next = p &+ Self.columns
        }
    }

    @inline(__always)
    func compute<A: LaneActivation>(channel o: Int, source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>,
                                    activation: A) {
        let z = SIMD8<Float>(repeating: 0)
        var a00 = z, a01 = z
        var a10 = z, a11 = z
        var a20 = z, a21 = z
        var a30 = z, a31 = z
        var a40 = z, a41 = z
        var a50 = z, a51 = z
        let w = weights + o &* depth, k = depth
        var x = source
        for i in 0..<depth {
            let x0 = load8(x), x1 = load8(x + 8)
            let w0 = SIMD8<Float>(repeating: w[i])
            a00 = a00.addingProduct(x0, w0); a01 = a01.addingProduct(x1, w0)
            let w1 = SIMD8<Float>(repeating: w[k &+ i])
            a10 = a10.addingProduct(x0, w1); a11 = a11.addingProduct(x1, w1)
            let w2 = SIMD8<Float>(repeating: w[2 &* k &+ i])
            a20 = a20.addingProduct(x0, w2); a21 = a21.addingProduct(x1, w2)
            let w3 = SIMD8<Float>(repeating: w[3 &* k &+ i])
            a30 = a30.addingProduct(x0, w3); a31 = a31.addingProduct(x1, w3)
            let w4 = SIMD8<Float>(repeating: w[4 &* k &+ i])
            a40 = a40.addingProduct(x0, w4); a41 = a41.addingProduct(x1, w4)
            let w5 = SIMD8<Float>(repeating: w[5 &* k &+ i])
            a50 = a50.addingProduct(x0, w5); a51 = a51.addingProduct(x1, w5)
            x += plane
        }
        // Bias and activation in registers, then one store per row (written out: a local store function was not inlined).
        let b0 = SIMD8<Float>(repeating: bias?[o &+ 0] ?? 0), d0 = destination + (o &+ 0) &* plane
        store8(activation(a00 + b0), d0); store8(activation(a01 + b0), d0 + 8)
        let b1 = SIMD8<Float>(repeating: bias?[o &+ 1] ?? 0), d1 = destination + (o &+ 1) &* plane
        store8(activation(a10 + b1), d1); store8(activation(a11 + b1), d1 + 8)
        let b2 = SIMD8<Float>(repeating: bias?[o &+ 2] ?? 0), d2 = destination + (o &+ 2) &* plane
        store8(activation(a20 + b2), d2); store8(activation(a21 + b2), d2 + 8)
        let b3 = SIMD8<Float>(repeating: bias?[o &+ 3] ?? 0), d3 = destination + (o &+ 3) &* plane
        store8(activation(a30 + b3), d3); store8(activation(a31 + b3), d3 + 8)
        let b4 = SIMD8<Float>(repeating: bias?[o &+ 4] ?? 0), d4 = destination + (o &+ 4) &* plane
        store8(activation(a40 + b4), d4); store8(activation(a41 + b4), d4 + 8)
        let b5 = SIMD8<Float>(repeating: bias?[o &+ 5] ?? 0), d5 = destination + (o &+ 5) &* plane
        store8(activation(a50 + b5), d5); store8(activation(a51 + b5), d5 + 8)
    }
}
