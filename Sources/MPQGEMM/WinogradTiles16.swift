import CVectorLanes

/// What Winograd's AVX-512 output transform applies before a store (`MPQKernels.Activation`'s register forms).
public enum TileActivation16: Sendable {
    case identity, relu
    case clip(lo: Float, hi: Float)

    @inline(__always)
    func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .identity: v
        case .relu: mpq_relu16(v)
        case let .clip(lo, hi): mpq_clamp16(v, SIMD16(repeating: lo), SIMD16(repeating: hi))
        }
    }
}

/// The input and output transforms of Winograd F(2×2, 3×3) on 16-channel blocks, one AVX-512 register per pixel
/// (`MPQKernels.WinogradConvolution`, which calls them only after a run-time AVX-512F check, holds the geometry and
/// the proofs). The same operations in the same order as its eight-lane transforms, so each lane's value is
/// bit-identical to theirs.
public struct WinogradTiles16: Sendable {
    public let inChannels: Int, outChannels: Int
    public let height: Int, width: Int, outHeight: Int, outWidth: Int
    public let padTop: Int, padLeft: Int
    public let tileRows: Int, tileColumns: Int
    var perImage: Int { tileRows * tileColumns }

    public init(inChannels: Int, outChannels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int, padTop: Int,
                padLeft: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        (self.height, self.width, self.outHeight, self.outWidth) = (height, width, outHeight, outWidth)
        (self.padTop, self.padLeft) = (padTop, padLeft)
        tileRows = (outHeight + 1) / 2
        tileColumns = (outWidth + 1) / 2
    }

    /// `Bᵀ d B` of tiles `first..<first + count` for every input channel: tile `first + i` into row `i` of the 16
    /// matrices in `v` (point `p`, row `i`, channel `c` at `v[(p · rows + i) · inChannels + c]`).
    @inline(never)
    public func transformInputs(first: Int, count: Int, rows: Int, input: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>) {
        for i in 0..<count { transformInput(tile: first + i, row: i, rows: rows, input: input, v: v) }
    }

    @inline(__always)
    private func transformInput(tile: Int, row: Int, rows: Int, input: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let cin = inChannels
        let n = tile / perImage, r = tile % perImage
        let y0 = (r / tileColumns) * 2 - padTop, x0 = (r % tileColumns) * 2 - padLeft
        let inside = y0 >= 0 && x0 >= 0 && y0 + 4 <= height && x0 + 4 <= width
        let plane = height * width * 16
        for c in stride(from: 0, to: cin, by: 16) {
            let p = input + (n * cin / 16 + c / 16) * plane
            @inline(__always) func pixel(_ y: Int, _ x: Int) -> V {
                y >= 0 && y < height && x >= 0 && x < width ? load(p + (y * width + x) * 16) : V()
            }
            @inline(__always) func rowTimesB(_ y: Int) -> (V, V, V, V) {
                let d: (V, V, V, V)
                if inside {
                    let q = p + ((y0 + y) * width + x0) * 16
                    d = (load(q), load(q + 16), load(q + 32), load(q + 48))
                } else {
                    d = (pixel(y0 + y, x0), pixel(y0 + y, x0 + 1), pixel(y0 + y, x0 + 2), pixel(y0 + y, x0 + 3))
                }
                return (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
            }
            let r0 = rowTimesB(0), r1 = rowTimesB(1), r2 = rowTimesB(2), r3 = rowTimesB(3)
            let base = v + row * cin + c, step = rows * cin
            @inline(__always) func put(_ q: Int, _ a: (V, V, V, V)) {
                store(a.0, base + (4 * q) * step); store(a.1, base + (4 * q + 1) * step)
                store(a.2, base + (4 * q + 2) * step); store(a.3, base + (4 * q + 3) * step)
            }
            put(0, (r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3))
            put(1, (r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3))
            put(2, (r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3))
            put(3, (r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3))
        }
    }

    /// `Aᵀ m A` of tiles `first..<first + count` for the 16 output channels from `channel` (`products`: point `p`,
    /// row `i` at `(p · rows + i) · 16`), then bias, `activation` and, with `residual`, that activation of the sum
    /// with the value already in `output`.
    @inline(never)
    public func transformOutputs(first: Int, count: Int, rows: Int, channel k: Int, products: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                 activation: TileActivation16, residual: TileActivation16?) {
        typealias V = SIMD16<Float>
        let bv = bias.map { load($0 + k) } ?? V()
        @inline(__always) func put(_ v: V, _ q: UnsafeMutablePointer<Float>) {
            var y = activation(v + bv)
            if let residual { y = residual(y + load(UnsafePointer(q))) }
            store(y, q)
        }
        for row in 0..<count {
            let tile = first + row
            @inline(__always) func m(_ p: Int) -> V { load(products + (p * rows + row) * 16) }
            let s0 = (m(0) + m(4) + m(8), m(1) + m(5) + m(9), m(2) + m(6) + m(10), m(3) + m(7) + m(11))
            let s1 = (m(4) - m(8) - m(12), m(5) - m(9) - m(13), m(6) - m(10) - m(14), m(7) - m(11) - m(15))
            let n = tile / perImage, r = tile % perImage
            let oy = (r / tileColumns) * 2, ox = (r % tileColumns) * 2
            let q = output + ((n * outChannels / 16 + k / 16) * outHeight + oy) * outWidth * 16 + ox * 16
            let right = ox + 1 < outWidth, below = oy + 1 < outHeight
            put(s0.0 + s0.1 + s0.2, q)
            if right { put(s0.1 - s0.2 - s0.3, q + 16) }
            if below {
                let q1 = q + outWidth * 16
                put(s1.0 + s1.1 + s1.2, q1)
                if right { put(s1.1 - s1.2 - s1.3, q1 + 16) }
            }
        }
    }

    @inline(__always)
    private func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}
