extension Conv2D {
    /// Depthwise convolution: one input channel per group, `multiplier = outChannels / inChannels`
    /// output channels per input channel. Each input plane is copied once into a zero-padded buffer
    /// whose rows are de-interleaved by the horizontal stride, so every kernel tap reads a contiguous
    /// run and the width loop is plain SIMD.
    static func depthwise(_ s: Conv2DShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                          activation: Activation, threads: Int) {
        let wh = s.window.height, ww = s.window.width
        let mult = s.outChannels / s.inChannels
        let inH = wh.input, inW = ww.input
        let sH = wh.stride
        let inPlane = inH * inW
        let geometry = DepthwisePlane(s)
        let tapOffsets = geometry.tapOffsets(s)
        let tasks = s.batch * s.inChannels
        // Enough work per task to be worth a thread: parallelise when there are ≥ 2 tasks and the
        // layer is not tiny.
        let outer = (s.outputCount * tapOffsets.count >= 1 << 15) ? threads : 1
        let pin = SendablePointer(input), pw = SendablePointer(weights), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }
        // The activation is chosen once per call: the plane loop is specialised for it (a per-plane switch and the
        // division of the task into image and channel were a visible share of 8×8 planes).
        switch activation {
        case .relu: planes(ReLULanes(), then: .none)
        case let .clip(lo, hi): planes(ClipLanes(lo: lo, hi: hi), then: .none)
        default: planes(IdentityLanes(), then: activation)
        }

        func planes<A: LaneActivation>(_ lanes: A, then after: Activation) {
            tapOffsets.withUnsafeBufferPointer { tapBuf in
                let ptaps = SendablePointer(tapBuf.baseAddress!)
                Parallel.forEachChunk(count: tasks, threads: outer) { _, range in
                    // Zeroed once: every plane writes the same interior positions, so the padding and
                    // the slack that the last row and column blocks read past the plane stay zero.
                    let capacity = geometry.bufferCount
                    let padded = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
                    padded.initialize(repeating: 0, count: capacity)
                    defer { padded.deallocate() }
                    // Task = image × input channel; output planes task·mult … task·mult + mult − 1.
                    var ic = range.lowerBound % s.inChannels
                    for task in range {
                        geometry.fill(padded, from: UnsafePointer(pin.p) + task &* inPlane, s)
                        for m in 0..<mult {
                            let oc = ic &* mult &+ m
                            let plane = DepthwisePlane.Operands(
                                padded: UnsafePointer(padded), taps: UnsafePointer(ptaps.p), tapCount: tapOffsets.count,
                                weights: UnsafePointer(pw.p) + oc &* tapOffsets.count, bias: pbias.map { $0.p[oc] } ?? 0,
                                output: pout.p + (task &* mult &+ m) &* geometry.outPlane)
                            geometry.compute(plane, strideH: sH, lanes: lanes)
                            if !after.isIdentity { after.apply(plane.output, count: geometry.outPlane) }
                        }
                        ic &+= 1
                        if ic == s.inChannels { ic = 0 }
                    }
                }
            }
        }
    }
}

/// The padded-plane geometry of one depthwise convolution and its output-plane kernels.
struct DepthwisePlane {
    /// Padded rows and columns actually read by the windows.
    let rows: Int, cols: Int
    /// Columns of one stride phase, and the padded row's length (`phaseLength × strideW`).
    let phaseLength: Int, rowStride: Int
    let outH: Int, outW: Int
    /// Zero-padded buffer size: the plane plus slack for the blocks that overhang its edges.
    let bufferCount: Int
    var outPlane: Int { outH * outW }

    /// Narrow planes (≤ 8 columns, e.g. EfficientNet's 7×7) use 8 rows × 8 columns per block,
    /// wider ones 4 rows × 16: independent accumulators hide the FMA latency, and a block never
    /// falls back to scalar code for a width that is not a multiple of the vector.
    static let narrowWidth = 8
    /// Rows at least this wide take one row × 32 columns per block.
    static let longWidth = 32
    /// Output rows of the tallest block (the narrow planes' 8 × 8): the last block of a plane may overhang its last
    /// output row, so the buffer's slack holds this many strided rows more.
    static let tallestBlockRows = 8

    init(_ s: Conv2DShape) {
        let wh = s.window.height, ww = s.window.width
        rows = max((wh.output - 1) * wh.stride + wh.effectiveKernel, 1)
        cols = max((ww.output - 1) * ww.stride + ww.effectiveKernel, 1)
        phaseLength = (cols + ww.stride - 1) / ww.stride
        rowStride = phaseLength * ww.stride
        outH = wh.output; outW = ww.output
        bufferCount = (rows + Self.tallestBlockRows * wh.stride + 1) * rowStride + 32
    }

    /// Offset of each kernel tap in the padded, de-interleaved plane.
    func tapOffsets(_ s: Conv2DShape) -> [Int] {
        let wh = s.window.height, ww = s.window.width, sW = ww.stride
        var offsets: [Int] = []
        for kh in 0..<wh.kernel {
            for kw in 0..<ww.kernel {
                let x = kw * ww.dilation
                offsets.append(kh * wh.dilation * rowStride + (x % sW) * phaseLength + x / sW)
            }
        }
        return offsets
    }

    /// Copies one input plane into the zero-padded, stride-de-interleaved buffer (padding stays as it is).
    ///
    /// Rows are copied with vector loads and stores, not `memmove` (a call per row of 8–16 floats was a third of a
    /// small-plane layer's time); stride 2 splits each 16-column load into its even and odd columns.
    func fill(_ padded: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>, _ s: Conv2DShape) {
        let wh = s.window.height, ww = s.window.width
        let inH = wh.input, inW = ww.input, sW = ww.stride
        let x0 = ww.padBegin, x1 = min(ww.padBegin &+ inW, cols)
        guard x0 < x1 else { return }
        let n = x1 &- x0
        for r in 0..<rows {
            let ih = r &- wh.padBegin
            guard ih >= 0 && ih < inH else { continue }
            let row = padded + r &* rowStride
            let line = plane + ih &* inW
            switch sW {
            case 1: Self.copy(line, to: row + x0, count: n)
            case 2: deinterleavePairs(line, count: n, to: row, at: x0)
            default:
                for c in 0..<n {
                    let x = x0 &+ c
                    row[(x % sW) &* phaseLength &+ x / sW] = line[c]
                }
            }
        }
    }

    /// Copies `count` floats with 16- and 8-float moves; a tail of a row at least 8 long is one move that
    /// overlaps the previous one.
    @inline(__always)
    private static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i &+ 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self),
                                                       as: SIMD16<Float>.self)
            i &+= 16
        }
        if i &+ 8 <= count { store8(load8(src + i), dst + i); i &+= 8 }
        guard i < count else { return }
        if count >= 8 {
            store8(load8(src + (count &- 8)), dst + (count &- 8))
        } else {
            for k in i..<count { dst[k] = src[k] }
        }
    }

    /// Writes input columns `0..<count` of a row to padded columns `x0...` of a stride-2 buffer row (phase
    /// `x % 2`, position `x / 2`), 16 columns per load; the tail of a row at least 16 long is one load that
    /// overlaps the previous one (it rewrites the same values).
    @inline(__always)
    private func deinterleavePairs(_ line: UnsafePointer<Float>, count: Int, to row: UnsafeMutablePointer<Float>, at x0: Int) {
        @inline(__always) func block(_ c: Int) {
            let v = UnsafeRawPointer(line + c).loadUnaligned(as: SIMD16<Float>.self)
            let x = x0 &+ c
            if x & 1 == 0 {
                store8(v.evenHalf, row + x >> 1)
                store8(v.oddHalf, row + (phaseLength &+ x >> 1))
            } else {
                store8(v.evenHalf, row + (phaseLength &+ x >> 1))
                store8(v.oddHalf, row + (x &+ 1) >> 1)
            }
        }
        var c = 0
        while c &+ 16 <= count { block(c); c &+= 16 }
        guard c < count else { return }
        if count >= 16 {
            block(count &- 16)
        } else {
            for k in c..<count {
                let x = x0 &+ k
                row[(x & 1) &* phaseLength &+ x >> 1] = line[k]
            }
        }
    }

    /// Pointers for one output plane.
    struct Operands {
        var padded: UnsafePointer<Float>
        var taps: UnsafePointer<Int>
        var tapCount: Int
        var weights: UnsafePointer<Float>
        var bias: Float
        var output: UnsafeMutablePointer<Float>
    }

    /// Computes one output plane, with `lanes` applied in registers before the stores.
    ///
    /// Rows at least as wide as a block never overhang: the last block of a row is shifted left to
    /// end at the row's end. A narrower row's block overhangs only into later rows of the plane,
    /// which are stored afterwards (rows go top to bottom); a store that would leave the plane is
    /// written element by element.
    @inline(__always)
    func compute<A: LaneActivation>(_ o: Operands, strideH: Int, lanes: A) {
        if outW >= Self.longWidth {
            longRows(o, rowStep: strideH &* rowStride, activation: lanes)
        } else if outW <= Self.narrowWidth {
            narrowBlocks(o, rowStep: strideH &* rowStride, activation: lanes)
        } else {
            wideBlocks(o, rowStep: strideH &* rowStride, activation: lanes)
        }
    }

    private func wideBlocks<A: LaneActivation>(_ o: Operands, rowStep: Int, activation: A) {
        let bv = SIMD8<Float>(repeating: o.bias)
        var oh = 0
        while oh < outH {
            let rows = min(4, outH &- oh)
            var next = 0
            while next < outW {
                // As in `longRows`; a row narrower than 16 overhangs into the rows below instead.
                let ow = outW >= 16 ? min(next, outW &- 16) : 0
                let base = o.padded + (oh &* rowStep &+ ow)
                var a00 = bv, a01 = bv, a10 = bv, a11 = bv, a20 = bv, a21 = bv, a30 = bv, a31 = bv
                for t in 0..<o.tapCount {
                    let p = base + o.taps[t]
                    let wv = SIMD8<Float>(repeating: o.weights[t])
                    a00 = a00.addingProduct(load8(p), wv)
                    a01 = a01.addingProduct(load8(p + 8), wv)
                    a10 = a10.addingProduct(load8(p + rowStep), wv)
                    a11 = a11.addingProduct(load8(p + (rowStep &+ 8)), wv)
                    a20 = a20.addingProduct(load8(p + 2 &* rowStep), wv)
                    a21 = a21.addingProduct(load8(p + (2 &* rowStep &+ 8)), wv)
                    a30 = a30.addingProduct(load8(p + 3 &* rowStep), wv)
                    a31 = a31.addingProduct(load8(p + (3 &* rowStep &+ 8)), wv)
                }
                let dst = o.output + (oh &* outW &+ ow)
                let cols = min(16, outW &- ow)
                store(activation(a00), activation(a01), to: dst, row: oh, cols: cols)
                if rows > 1 { store(activation(a10), activation(a11), to: dst + outW, row: oh &+ 1, cols: cols) }
                if rows > 2 { store(activation(a20), activation(a21), to: dst + 2 &* outW, row: oh &+ 2, cols: cols) }
                if rows > 3 { store(activation(a30), activation(a31), to: dst + 3 &* outW, row: oh &+ 3, cols: cols) }
                next = ow &+ 16
            }
            oh &+= 4
        }
    }

    private func longRows<A: LaneActivation>(_ o: Operands, rowStep: Int, activation: A) {
        let bv = SIMD8<Float>(repeating: o.bias)
        for oh in 0..<outH {
            var next = 0
            while next < outW {
                // The last block is shifted left to end at the row's end (it recomputes a few
                // columns) instead of overhanging into the next row.
                let ow = min(next, outW &- 32)
                let base = o.padded + (oh &* rowStep &+ ow)
                var a0 = bv, a1 = bv, a2 = bv, a3 = bv
                for t in 0..<o.tapCount {
                    let p = base + o.taps[t]
                    let wv = SIMD8<Float>(repeating: o.weights[t])
                    a0 = a0.addingProduct(load8(p), wv)
                    a1 = a1.addingProduct(load8(p + 8), wv)
                    a2 = a2.addingProduct(load8(p + 16), wv)
                    a3 = a3.addingProduct(load8(p + 24), wv)
                }
                let dst = o.output + (oh &* outW &+ ow)
                store8(activation(a0), dst)
                store8(activation(a1), dst + 8)
                store8(activation(a2), dst + 16)
                store8(activation(a3), dst + 24)
                next = ow &+ 32
            }
        }
    }

    private func narrowBlocks<A: LaneActivation>(_ o: Operands, rowStep: Int, activation: A) {
        let bv = SIMD8<Float>(repeating: o.bias)
        var oh = 0
        while oh < outH {
            let base = o.padded + oh &* rowStep
            var a0 = bv, a1 = bv, a2 = bv, a3 = bv, a4 = bv, a5 = bv, a6 = bv, a7 = bv
            for t in 0..<o.tapCount {
                let p = base + o.taps[t]
                let wv = SIMD8<Float>(repeating: o.weights[t])
                a0 = a0.addingProduct(load8(p), wv)
                a1 = a1.addingProduct(load8(p + rowStep), wv)
                a2 = a2.addingProduct(load8(p + 2 &* rowStep), wv)
                a3 = a3.addingProduct(load8(p + 3 &* rowStep), wv)
                a4 = a4.addingProduct(load8(p + 4 &* rowStep), wv)
                a5 = a5.addingProduct(load8(p + 5 &* rowStep), wv)
                a6 = a6.addingProduct(load8(p + 6 &* rowStep), wv)
                a7 = a7.addingProduct(load8(p + 7 &* rowStep), wv)
            }
            let rows = min(8, outH &- oh)
            let dst = o.output + oh &* outW
            if outW == Self.narrowWidth {
                // Rows of exactly eight: plain stores, no overhang to check.
                store8(activation(a0), dst)
                if rows > 1 { store8(activation(a1), dst + 8) }
                if rows > 2 { store8(activation(a2), dst + 16) }
                if rows > 3 { store8(activation(a3), dst + 24) }
                if rows > 4 { store8(activation(a4), dst + 32) }
                if rows > 5 { store8(activation(a5), dst + 40) }
                if rows > 6 { store8(activation(a6), dst + 48) }
                if rows > 7 { store8(activation(a7), dst + 56) }
                oh &+= 8
                continue
            }
            let block = (a0, a1, a2, a3, a4, a5, a6, a7)
            withUnsafeBytes(of: block) { raw in
                let vectors = raw.bindMemory(to: SIMD8<Float>.self)
                for r in 0..<rows {
                    store(activation(vectors[r]), to: dst + r &* outW, row: oh &+ r, cols: outW)
                }
            }
            oh &+= 8
        }
    }

    /// Whether a full-vector store that runs `overhang` floats past the end of `row` stays inside
    /// the plane (those positions belong to later rows, which are stored afterwards).
    @inline(__always)
    private func fits(overhang: Int, after row: Int) -> Bool {
        overhang <= (outH &- 1 &- row) &* outW
    }

    /// Stores 16 columns of row `row`; only `cols` of them where a full store would leave the plane.
    @inline(__always)
    private func store(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, to dst: UnsafeMutablePointer<Float>, row: Int, cols: Int) {
        if fits(overhang: 16 &- cols, after: row) {
            store8(lo, dst)
            store8(hi, dst + 8)
        } else {
            for i in 0..<cols { dst[i] = i < 8 ? lo[i] : hi[i &- 8] }
        }
    }

    /// Stores 8 columns of row `row`; only `cols` of them where a full store would leave the plane.
    @inline(__always)
    private func store(_ v: SIMD8<Float>, to dst: UnsafeMutablePointer<Float>, row: Int, cols: Int) {
        if fits(overhang: 8 &- cols, after: row) {
            store8(v, dst)
        } else {
            for i in 0..<cols { dst[i] = v[i] }
        }
    }
}
