/// Shape of a 2-D convolution over NCHW tensors.
///
/// Layouts (all row-major float32, densely packed):
/// - input   `[batch, inChannels, window.height.input, window.width.input]`
/// - weights `[outChannels, inChannels / group, window.height.kernel, window.width.kernel]`
/// - bias    `[outChannels]` (optional)
/// - output  `[batch, outChannels, window.height.output, window.width.output]`
public struct Conv2DShape: Sendable, Hashable {
    public var batch: Int
    public var inChannels: Int
    public var outChannels: Int
    public var group: Int
    public var window: Window2D

    public init(batch: Int, inChannels: Int, outChannels: Int, group: Int = 1, window: Window2D) {
        precondition(batch >= 0 && group >= 1 && inChannels % group == 0 && outChannels % group == 0,
                     "Conv2DShape: channels must be divisible by group")
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels
        self.group = group; self.window = window
    }

    public var inputCount: Int { batch * inChannels * window.height.input * window.width.input }
    public var weightCount: Int { outChannels * (inChannels / group) * window.height.kernel * window.width.kernel }
    public var outputCount: Int { batch * outChannels * window.height.output * window.width.output }
    /// Multiply-adds × 2.
    public var flops: Int { 2 * outputCount * (inChannels / group) * window.height.kernel * window.width.kernel }

    /// Whether `Conv2D.forward` uses the direct depthwise kernel (one input channel per group), which includes a
    /// single-channel input (a stem over grey images: its output channels are the kernel's channel multiplier).
    public var isDepthwise: Bool { group == inChannels }
    /// Whether `Conv2D.forward` multiplies the input directly, without im2col.
    public var isPointwise: Bool {
        let h = window.height, w = window.width
        return h.kernel == 1 && w.kernel == 1 && h.stride == 1 && w.stride == 1
            && h.padBegin == 0 && h.padEnd == 0 && w.padBegin == 0 && w.padEnd == 0
            && h.output == h.input && w.output == w.input
    }
}

/// 2-D convolution (cross-correlation, as in ONNX Conv) on NCHW buffers.
public enum Conv2D {
    /// Size budget of one im2col tile (whole output rows per tile), so that the column buffer stays
    /// in L2 between im2col and sgemm. A tuning knob; the default suits Zen 4's 1 MiB L2.
    nonisolated(unsafe) public static var im2colTileBytes = 512 * 1024

    /// Computes `output = conv(input, weights) + bias` for the layouts documented on `Conv2DShape`.
    ///
    /// Dense convolutions with a spatial kernel and depthwise ones over small planes go to oneDNN
    /// (`OneDNNConvolution`, when the GEMM backend is oneDNN). Other grouped and dense convolutions
    /// use im2col + sgemm per (image, group), skipping im2col for 1×1 stride-1 unpadded kernels;
    /// other depthwise convolutions (`group == inChannels`, any channel multiplier) use a direct
    /// SIMD kernel. `threads` defaults to `KernelThreads.count`; `allowOneDNN: false` forces the
    /// hand-written paths (for comparisons and tests). `cachedWeights` (the array `weights` points into, and a
    /// cache owned by the caller's layer) lets oneDNN reorder the weights once per array instead of per call.
    /// A `layout` with a blocked side runs on oneDNN with that side in `ChannelBlocks`' layout; with `residual`, the
    /// output buffer holds a residual on entry: `output = residual(activation(conv + bias) + output)`. The caller
    /// checks `runsBlocked(_:activation:layout:residual:)` first. Blocked on both sides, a 3×3 stride-1 convolution
    /// runs as Winograd F(2×2, 3×3) instead where `WinogradConvolution.preferred` says so (`winograd: false` never).
    public static func forward(_ shape: Conv2DShape,
                               input: UnsafePointer<Float>,
                               weights: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>,
                               activation: Activation = .none,
                               threads: Int? = nil,
                               allowOneDNN: Bool = true,
                               cachedWeights: (array: [Float], cache: ConvolutionWeightCache)? = nil,
                               layout: ConvolutionLayout = .plain, residual: Activation? = nil, winograd: Bool = true) {
        let threads = threads ?? KernelThreads.count
        guard shape.outputCount > 0 else { return }
        if winograd, let wino = winogradForm(shape, activation: activation, layout: layout, residual: residual) {
            let u = cachedWeights.map { $0.cache.winogradWeights($0.array, for: wino) }
                ?? wino.preparedWeights(weights)
            u.withUnsafeBufferPointer {
                wino.forward(input: input, prepared: $0.baseAddress!, bias: bias, output: output, threads: threads)
            }
            return
        }
        if !layout.isPlain {
            let ran = oneDNN(shape, input: input, weights: weights, bias: bias, output: output, activation: activation,
                             threads: threads, cachedWeights: cachedWeights, layout: layout, residual: residual)
            precondition(ran, "Conv2D: oneDNN cannot run \(shape) with \(layout); check runsBlocked first")
            return
        }
        if allowOneDNN, Gemm.backend == .oneDNN, OneDNNConvolution.handles(shape), oneDNN(shape, input: input, weights: weights,
                                                                                    bias: bias, output: output,
                                                                                    activation: activation, threads: threads,
                                                                                    cachedWeights: cachedWeights) {
            return
        } else if usesDirectPointwise(shape) {
            directPointwise(shape, input: input, weights: weights, bias: bias, output: output, activation: activation, threads: threads)
        } else if shape.isDepthwise {
            depthwise(shape, input: input, weights: weights, bias: bias, output: output, activation: activation, threads: threads)
        } else {
            gemmBased(shape, input: input, weights: weights, bias: bias, output: output, activation: activation, threads: threads)
        }
    }

    /// Whether `forward` can run this convolution with `layout`'s blocked sides (and `residual`): as Winograd, or on
    /// oneDNN (whose primitives this creates, so a Winograd layer asks for none).
    public static func runsBlocked(_ s: Conv2DShape, activation: Activation, layout: ConvolutionLayout,
                                   residual: Activation? = nil) -> Bool {
        winogradForm(s, activation: activation, layout: layout, residual: residual) != nil
            || runsOnOneDNN(s, activation: activation, layout: layout, residual: residual)
    }

    /// The Winograd form `forward` runs for these sides, when both are blocked and `WinogradConvolution` prefers it.
    static func winogradForm(_ s: Conv2DShape, activation: Activation, layout: ConvolutionLayout,
                             residual: Activation?) -> WinogradConvolution? {
        guard layout.blockedInput, layout.blockedOutput else { return nil }
        return WinogradConvolution.preferred(s, activation: activation, residual: residual)
    }

    // MARK: oneDNN

    /// Whether `forward` can run this convolution on oneDNN with `layout`'s blocked sides (and `residual`).
    public static func runsOnOneDNN(_ s: Conv2DShape, activation: Activation, layout: ConvolutionLayout,
                                    residual: Activation? = nil) -> Bool {
        Gemm.backend == .oneDNN && s.outputCount > 0
            && oneDNNHalves(s, activation: activation, layout: layout, residual: residual) != nil
    }

    /// The primitives for the batch's two halves (first half rounded up) and the first half's size; nil when oneDNN
    /// has no implementation for a half.
    private static func oneDNNHalves(_ s: Conv2DShape, activation: Activation, layout: ConvolutionLayout,
                                     residual: Activation? = nil) -> (first: Int, convs: [OneDNNConvolution])? {
        let first = (s.batch + minimumTasks - 1) / minimumTasks
        var halves = [first]
        if s.batch > first { halves.append(s.batch - first) }
        var convs: [OneDNNConvolution] = []
        for images in halves {
            var part = s
            part.batch = images
            guard let conv = OneDNNConvolution.cached(part, activation: activation, layout: layout, residual: residual) else { return nil }
            convs.append(conv)
        }
        return (first, convs)
    }

    /// Runs the convolution as oneDNN primitives over the batch's two halves, in parallel when `threads > 1`; false
    /// when oneDNN has no implementation for a half. A blocked layout keeps each image's blocks contiguous, so the
    /// halves split it at the same offsets as NCHW.
    private static func oneDNN(_ s: Conv2DShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                               activation: Activation, threads: Int,
                               cachedWeights: (array: [Float], cache: ConvolutionWeightCache)?,
                               layout: ConvolutionLayout = .plain, residual: Activation? = nil) -> Bool {
        guard let (first, convs) = oneDNNHalves(s, activation: activation, layout: layout, residual: residual) else { return false }
        let inImage = s.inChannels * s.window.height.input * s.window.width.input
        let outImage = s.outChannels * s.window.height.output * s.window.width.output
        let pin = SendablePointer(input), pw = SendablePointer(weights), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }
        // Reordered once for both halves (their primitives read the same layout unless the halves differ in size
        // enough for oneDNN to choose another; such a half reorders per call).
        let prepared = cachedWeights.flatMap { $0.cache.prepared($0.array, for: convs[0]) }
        Parallel.forEachChunk(count: convs.count, threads: threads) { _, range in
            for i in range {
                let n0 = i &* first
                convs[i].forward(input: UnsafePointer(pin.p) + n0 &* inImage, weights: UnsafePointer(pw.p),
                                 bias: pbias.map { UnsafePointer($0.p) }, output: pout.p + n0 &* outImage,
                                 activation: activation, prepared: prepared)
            }
        }
        return true
    }

    // MARK: im2col + sgemm

    private static func gemmBased(_ s: Conv2DShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                  activation: Activation, threads: Int) {
        let wh = s.window.height, ww = s.window.width
        let cinG = s.inChannels / s.group, coutG = s.outChannels / s.group
        let inPlane = wh.input * ww.input, outPlane = wh.output * ww.output
        let kTaps = wh.kernel * ww.kernel
        let kDim = cinG * kTaps
        let pointwise = s.isPointwise
        if s.batch > 1 && outPlane <= batchedPlaneLimit && Gemm.prefersWideProducts && (!pointwise || outPlane < 64) {
            batchedSmallPlanes(s, input: input, weights: weights, bias: bias, output: output,
                               activation: activation, threads: threads)
            return
        }
        // Output rows per im2col tile.
        let rowsPerTile = pointwise ? wh.output
            : max(1, min(wh.output, im2colTileBytes / max(1, kDim * ww.output * 4)))
        let colCount = pointwise ? 0 : kDim * rowsPerTile * ww.output
        let pairs = s.batch * s.group
        // Tiles per (image, group): im2col row tiles; a pointwise plane is cut into column blocks
        // whose output block fits in L2 (`pointwiseTileBytes`), so the bias/activation epilogue
        // reads it from cache rather than memory, and into at least `minimumTasks` blocks when there
        // are fewer pairs. Never a function of `threads`: oneDNN's sgemm need not give bit-identical
        // columns for different splits, and results must not depend on the thread count.
        let tiles: Int
        if pointwise {
            let byCache = max(1, (coutG &* outPlane &* 4 + pointwiseTileBytes - 1) / pointwiseTileBytes)
            let byTasks = pairs >= Self.minimumTasks ? 1 : max(1, min(Self.minimumTasks, outPlane / 256))
            tiles = max(1, min(max(byCache, byTasks), outPlane / 64))
        } else {
            tiles = (wh.output + rowsPerTile - 1) / rowsPerTile
        }
        let tasks = pairs * tiles

        let pin = SendablePointer(input), pw = SendablePointer(weights), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }

        // Parallel over (image, group, tile) with one OpenBLAS thread per task rather than OpenBLAS
        // threading: measured side by side, OpenBLAS's 2 threads gave no gain on one ResNet 3×3 64→64
        // 56² image (2.3 ms vs 2.1 ms single-threaded) while outer parallelism scaled ~1.85× at batch 8.
        Parallel.forEachChunk(count: tasks, threads: threads) { _, range in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: max(colCount, 1))
            defer { col.deallocate() }
            // A lone task (small plane, one image and group) may still use OpenBLAS's threads.
            Parallel.setBLASThreads(tasks == 1 ? threads : 1)
            for task in range {
                let pair = task / tiles, tile = task % tiles
                let n = pair / s.group, g = pair % s.group
                let src = UnsafePointer(pin.p) + (n &* s.inChannels &+ g &* cinG) &* inPlane
                let dst = pout.p + (n &* s.outChannels &+ g &* coutG) &* outPlane
                let wg = UnsafePointer(pw.p) + g &* coutG &* kDim
                let bg = pbias.map { UnsafePointer($0.p) + g &* coutG }
                if pointwise {
                    // Column block of the plane, a multiple of 16 columns except the last.
                    let step = ((outPlane + tiles - 1) / tiles + 15) & ~15
                    let c0 = min(outPlane, tile &* step), c1 = min(outPlane, c0 &+ step)
                    if c0 >= c1 { continue }
                    Gemm.raw(transA: false, transB: false, m: coutG, n: c1 &- c0, k: cinG, alpha: 1,
                             a: wg, lda: cinG, b: src + c0, ldb: inPlane, beta: 0, c: dst + c0, ldc: outPlane)
                    epilogue(bg, activation, channels: coutG, to: dst + c0, columns: c1 &- c0, ldc: outPlane)
                    continue
                }
                let oh0 = tile &* rowsPerTile
                let rows = min(rowsPerTile, wh.output &- oh0)
                let cols = rows &* ww.output
                im2col(s, src: src, channels: cinG, rows: oh0..<(oh0 &+ rows), col: col)
                let c = dst + oh0 &* ww.output
                Gemm.raw(transA: false, transB: false, m: coutG, n: cols, k: kDim, alpha: 1,
                         a: wg, lda: kDim, b: col, ldb: cols, beta: 0, c: c, ldc: outPlane)
                epilogue(bg, activation, channels: coutG, to: c, columns: cols, ldc: outPlane)
            }
        }
    }

    /// Output bytes per column block of a pointwise convolution (a tuning knob: half of Zen 4's
    /// 1 MiB L2, so the block is still cached when the epilogue adds the bias).
    nonisolated(unsafe) public static var pointwiseTileBytes = 512 * 1024

    /// Independent tasks a convolution is cut into at least, when its size allows: enough for two
    /// threads. Fixed, so that results are identical for every thread count.
    static let minimumTasks = 2

    /// Output planes up to this many pixels go through `batchedSmallPlanes` (with the packed AVX-512
    /// GEMM only: with OpenBLAS it measured slower than per-image products). Pointwise convolutions
    /// with planes of 64+ pixels stay per image: their gather/scatter copies cost more than the
    /// wider product saves (mobilenet-digits: 11.5k vs 12.5k samples/s).
    nonisolated(unsafe) public static var batchedPlaneLimit = 1024
    /// Target GEMM width (columns over several images) of the batched small-plane path.
    nonisolated(unsafe) public static var batchedColumns = 1024

    /// Small output planes: per-image GEMMs would be tiny (N = H·W), so the im2col columns of
    /// several images are laid side by side and multiplied in one sgemm of width
    /// `images · H·W`; the result is scattered to NCHW with bias and activation while in cache.
    private static func batchedSmallPlanes(_ s: Conv2DShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                           activation: Activation, threads: Int) {
        let wh = s.window.height, ww = s.window.width
        let cinG = s.inChannels / s.group, coutG = s.outChannels / s.group
        let inPlane = wh.input * ww.input, outPlane = wh.output * ww.output
        let kDim = cinG * wh.kernel * ww.kernel
        let pointwise = s.isPointwise
        let byWidth = max(1, batchedColumns / outPlane)
        let byBytes = max(1, (4 * im2colTileBytes) / max(1, kDim * outPlane * 4))
        // At least `minimumTasks` chunks when the batch allows, whatever the thread count (results
        // must not depend on it).
        let perTile = min(s.batch, byWidth, byBytes, max(1, (s.batch + Self.minimumTasks - 1) / Self.minimumTasks))
        let chunks = (s.batch + perTile - 1) / perTile
        let tasks = chunks * s.group
        let width = perTile * outPlane
        let pin = SendablePointer(input), pw = SendablePointer(weights), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }
        Parallel.forEachChunk(count: tasks, threads: threads) { _, range in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: kDim * width)
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: coutG * width)
            defer { col.deallocate(); tmp.deallocate() }
            Parallel.setBLASThreads(tasks == 1 ? threads : 1)
            for task in range {
                let chunk = task / s.group, g = task % s.group
                let n0 = chunk &* perTile, images = min(perTile, s.batch &- n0)
                let n = images &* outPlane
                for i in 0..<images {
                    let src = UnsafePointer(pin.p) + ((n0 &+ i) &* s.inChannels &+ g &* cinG) &* inPlane
                    let c = col + i &* outPlane
                    if pointwise {
                        for ch in 0..<cinG { (c + ch &* n).update(from: src + ch &* inPlane, count: inPlane) }
                    } else {
                        im2col(s, src: src, channels: cinG, rows: 0..<wh.output, col: c, ld: n)
                    }
                }
                Gemm.raw(transA: false, transB: false, m: coutG, n: n, k: kDim, alpha: 1,
                         a: UnsafePointer(pw.p) + g &* coutG &* kDim, lda: kDim, b: col, ldb: n, beta: 0, c: tmp, ldc: n)
                for i in 0..<images {
                    let dst = pout.p + ((n0 &+ i) &* s.outChannels &+ g &* coutG) &* outPlane
                    for ch in 0..<coutG {
                        let from = UnsafePointer(tmp) + (ch &* n &+ i &* outPlane), to = dst + ch &* outPlane
                        if let pb = pbias {
                            activation.apply(from: from, to: to, count: outPlane, bias: pb.p[g &* coutG &+ ch])
                        } else {
                            activation.apply(from: from, to: to, count: outPlane)
                        }
                    }
                }
            }
        }
    }

    /// Adds the per-channel bias (when present) and applies the fused activation to a freshly
    /// computed `channels × columns` tile (leading dimension `ldc`) while it is still in cache.
    @inline(__always)
    private static func epilogue(_ bias: UnsafePointer<Float>?, _ activation: Activation, channels: Int,
                                 to c: UnsafeMutablePointer<Float>, columns: Int, ldc: Int) {
        if let bias {
            for ch in 0..<channels { activation.apply(c + ch &* ldc, count: columns, bias: bias[ch]) }
        } else if !activation.isIdentity {
            for ch in 0..<channels { activation.apply(c + ch &* ldc, count: columns) }
        }
    }

    /// Fills `col` (`[channels·kH·kW, rows.count·outW]`, row-major) with the input patches of output
    /// rows `rows`, for `channels` input planes starting at `src`.
    static func im2col(_ s: Conv2DShape, src: UnsafePointer<Float>, channels: Int, rows: Range<Int>,
                       col: UnsafeMutablePointer<Float>, ld: Int? = nil) {
        let wh = s.window.height, ww = s.window.width
        let inW = ww.input, inH = wh.input, outW = ww.output
        let cols = ld ?? rows.count &* outW
        let inPlane = inH &* inW
        var dstRow = col
        for c in 0..<channels {
            let plane = src + c &* inPlane
            for kh in 0..<wh.kernel {
                for kw in 0..<ww.kernel {
                    let valid = Window2D.validOutputs(ww, tap: kw)
                    let xOff = kw &* ww.dilation &- ww.padBegin
                    var d = dstRow
                    for oh in rows {
                        let ih = oh &* wh.stride &- wh.padBegin &+ kh &* wh.dilation
                        if ih < 0 || ih >= inH {
                            d.update(repeating: 0, count: outW)
                        } else {
                            let line = plane + ih &* inW
                            if valid.lowerBound > 0 { d.update(repeating: 0, count: valid.lowerBound) }
                            if !valid.isEmpty {
                                if ww.stride == 1 {
                                    (d + valid.lowerBound).update(from: line + (valid.lowerBound &+ xOff), count: valid.count)
                                } else {
                                    let st = ww.stride
                                    for ow in valid { d[ow] = line[ow &* st &+ xOff] }
                                }
                            }
                            if valid.upperBound < outW {
                                (d + valid.upperBound).update(repeating: 0, count: outW &- valid.upperBound)
                            }
                        }
                        d += outW
                    }
                    dstRow += cols
                }
            }
        }
    }
}
