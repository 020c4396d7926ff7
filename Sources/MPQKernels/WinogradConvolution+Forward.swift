import Foundation
import MPQGEMM

extension WinogradConvolution {
    /// `output = activation(conv(input, weights) + bias)` (then, with a residual, `residual(that + output)`), both
    /// activations channel-blocked; `prepared` comes from `preparedWeights`. Blocks of tiles are spread over
    /// `threads`; every output is computed the same way whichever thread computes it.
    public func forward(input: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, threads: Int) {
        switch activation {
        case .relu: forward(ReLULanes(), input, prepared, bias, output, threads)
        case let .clip(lo, hi): forward(ClipLanes(lo: lo, hi: hi), input, prepared, bias, output, threads)
        default: forward(IdentityLanes(), input, prepared, bias, output, threads)
        }
    }

    private func forward<A: LaneActivation>(_ a: A, _ input: UnsafePointer<Float>, _ u: UnsafePointer<Float>,
                                            _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>,
                                            _ threads: Int) {
        switch residual {
        case nil: run(TileEpilogue(activation: a, residual: IdentityLanes(), addsResidual: false), input, u, bias, output, threads)
        case .relu?: run(TileEpilogue(activation: a, residual: ReLULanes(), addsResidual: true), input, u, bias, output, threads)
        case let .clip(lo, hi)?:
            run(TileEpilogue(activation: a, residual: ClipLanes(lo: lo, hi: hi), addsResidual: true), input, u, bias, output, threads)
        default: run(TileEpilogue(activation: a, residual: IdentityLanes(), addsResidual: true), input, u, bias, output, threads)
        }
    }

    private func run<A, R>(_ epilogue: TileEpilogue<A, R>, _ input: UnsafePointer<Float>, _ u: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>, _ threads: Int) {
        let wide = usesWideRegisters && TileGrid.wideRegisters
        let tiles = TileGrid(shape, blockSize: blockSize, transformsPerCall: transformsPerCall, wideProducts: wide,
                             wide: wide ? WideTiles(shape, blockSize: blockSize, activation: activation, residual: residual) : nil)
        // Weights transformed per call are transformed once per block of tiles (once per call for ResNet-18's 7×7
        // layers: two images have 32 tiles). Blocks are of about even size (98 tiles as 60 and 38, not 96 and 2: every
        // block reads all the transformed weights), a multiple of the register block's rows.
        let rows = tiles.blockRows
        let even = (tiles.count + Self.blockTiles - 1) / Self.blockTiles
        let perBlock = ((tiles.count + even - 1) / even + rows - 1) / rows * rows
        let blocks = (tiles.count + perBlock - 1) / perBlock
        let pin = SendablePointer(input), pu = SendablePointer(u), pout = SendablePointer(output)
        let pbias = bias.map { SendablePointer($0) }
        let scratchFloats = 16 * perBlock * (shape.inChannels + 16) + (transformsPerCall ? 16 * shape.inChannels * 16 : 0)
        Parallel.forEachChunk(count: blocks, threads: threads) { _, range in
            let scratch = WinogradScratch.take(floats: scratchFloats)
            defer { WinogradScratch.give(scratch) }
            for block in range {
                let first = block * perBlock
                tiles.compute(first: first, count: min(perBlock, tiles.count - first), input: UnsafePointer(pin.p),
                              u: UnsafePointer(pu.p), bias: pbias.map { UnsafePointer($0.p) }, output: pout.p,
                              scratch: scratch.p, epilogue: epilogue)
            }
        }
    }
}

/// What a tile's outputs go through before the store: bias, activation, then optionally the residual already in the
/// output buffer and its activation.
struct TileEpilogue<A: LaneActivation, R: LaneActivation> {
    let activation: A
    let residual: R
    let addsResidual: Bool

    @inline(__always)
    func store(_ v: SIMD8<Float>, _ bias: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        var y = activation(v + bias)
        if addsResidual { y = residual(y + load8(UnsafePointer(p))) }
        store8(y, p)
    }
}

/// The 2×2 output tiles of a batch, in (image, tile row, tile column) order, and the arithmetic on a block of them.
struct TileGrid {
    let shape: Conv2DShape
    let b: Int
    let height: Int, width: Int, outHeight: Int, outWidth: Int
    let padTop: Int, padLeft: Int
    let tileRows: Int, tileColumns: Int
    /// The weights come in panels, each transformed when a block of tiles reaches it.
    let transformsPerCall: Bool
    /// The AVX-512 transforms, for 16-channel blocks where the CPU has them.
    let wide: WideTiles?
    var perImage: Int { tileRows * tileColumns }
    var count: Int { shape.batch * perImage }

    init(_ shape: Conv2DShape, blockSize: Int, transformsPerCall: Bool, wideProducts: Bool, wide: WideTiles?) {
        self.shape = shape
        self.transformsPerCall = transformsPerCall
        self.wideProducts = wideProducts
        self.wide = wide
        b = blockSize
        let h = shape.window.height, w = shape.window.width
        height = h.input; width = w.input; outHeight = h.output; outWidth = w.output
        padTop = h.padBegin; padLeft = w.padBegin
        tileRows = (outHeight + 1) / 2; tileColumns = (outWidth + 1) / 2
    }

    /// Whether the CPU takes the AVX-512 register blocks (12 tiles × 16 channels) and transforms; `MPQ_WINOGRAD_AVX512=0`
    /// keeps the eight-lane ones (the same bits).
    static let wideRegisters = GemmBackend.usesAVX512(unlessDisabledBy: "MPQ_WINOGRAD_AVX512")
    /// Whether the products of 16 output channels take the AVX-512 register block.
    let wideProducts: Bool
    /// Tiles per product call: the rows of the register block (the eight-lane one has 6).
    var blockRows: Int { wideProducts ? 12 : 6 }

    /// Tiles `first..<first + count`: transforms their inputs into `scratch`, multiplies by the transformed weights
    /// per output-channel block, transforms back and stores.
    @inline(__always)
    func compute<A, R>(first: Int, count m: Int, input: UnsafePointer<Float>, u: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                       scratch: UnsafeMutablePointer<Float>, epilogue: TileEpilogue<A, R>) {
        let cin = shape.inChannels, cout = shape.outChannels
        let rows = (m + blockRows - 1) / blockRows * blockRows
        let v = scratch, products = scratch + 16 * rows * cin, panel = products + 16 * rows * 16
        if let wide {
            wide.tiles.transformInputs(first: first, count: m, rows: rows, input: input, v: v)
        } else {
            for i in 0..<m { transformInput(tile: first + i, row: i, rows: rows, input: input, v: v) }
        }
        for i in m..<rows { for p in 0..<16 { (v + (p * rows + i) * cin).update(repeating: 0, count: cin) } }
        var k0 = 0
        while k0 < cout {
            let width = min(16, cout - k0)
            // This block of output channels' transformed weights: point p at up(p), `[cin][width]`.
            var pointStride = cout * cin, weights = u + k0 * cin
            if transformsPerCall {
                WinogradConvolution.transformPanel(u + k0 * cin * 9, inChannels: cin, width: width, into: panel,
                                                   pointStride: cin * width)
                (pointStride, weights) = (cin * width, UnsafePointer(panel))
            }
            for p in 0..<16 {
                let up = weights + p * pointStride
                var r = 0
                while r < rows {
                    let a = UnsafePointer(v + (p * rows + r) * cin), c = products + (p * rows + r) * 16
                    switch (width, wideProducts) {
                    case (16, true): RegisterBlock12x16.product(cin, a, cin, up, c, 16); r += 12
                    case (16, false): product6x16(cin, a, cin, up, c, 16); r += 6
                    default: product6x8(cin, a, cin, up, c); r += 6
                    }
                }
            }
            if let wide {
                wide.tiles.transformOutputs(first: first, count: m, rows: rows, channel: k0, products: products, bias: bias,
                                            output: output, activation: wide.activation, residual: wide.residual)
                k0 += width
                continue
            }
            for i in 0..<m {
                for half in 0..<(width / 8) {
                    transformOutput(tile: first + i, row: i, rows: rows, channel: k0 + half * 8,
                                    products: UnsafePointer(products + half * 8), bias: bias, output: output, epilogue: epilogue)
                }
            }
            k0 += width
        }
    }

    /// `Bᵀ d B` of one tile's 4×4 input patch for every input channel, into row `row` of the 16 matrices in `v`.
    @inline(__always)
    func transformInput(tile: Int, row: Int, rows: Int, input: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>) {
        let cin = shape.inChannels
        let n = tile / perImage, r = tile % perImage
        let y0 = (r / tileColumns) * 2 - padTop, x0 = (r % tileColumns) * 2 - padLeft
        let inside = y0 >= 0 && x0 >= 0 && y0 + 4 <= height && x0 + 4 <= width
        let plane = height * width * b
        for c in stride(from: 0, to: cin, by: 8) {
            let p = input + (n * cin / b + c / b) * plane + (c % b)
            // Each input row times B (columns), then Bᵀ over the rows.
            @inline(__always) func rowTimesB(_ y: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                let d: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
                if inside {
                    let q = p + ((y0 + y) * width + x0) * b
                    d = (load8(q), load8(q + b), load8(q + 2 * b), load8(q + 3 * b))
                } else {
                    d = (pixel(p, y0 + y, x0), pixel(p, y0 + y, x0 + 1), pixel(p, y0 + y, x0 + 2), pixel(p, y0 + y, x0 + 3))
                }
                return (d.0 - d.2, d.1 + d.2, d.2 - d.1, d.1 - d.3)
            }
            let r0 = rowTimesB(0), r1 = rowTimesB(1), r2 = rowTimesB(2), r3 = rowTimesB(3)
            let base = v + row * cin + c, step = rows * cin
            @inline(__always) func put(_ q: Int, _ a: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) {
                store8(a.0, base + (4 * q) * step); store8(a.1, base + (4 * q + 1) * step)
                store8(a.2, base + (4 * q + 2) * step); store8(a.3, base + (4 * q + 3) * step)
            }
            put(0, (r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3))
            put(1, (r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3))
            put(2, (r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3))
            put(3, (r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3))
        }
    }

    /// Eight channels of one input pixel, zero outside the plane (padding).
    @inline(__always)
    func pixel(_ p: UnsafePointer<Float>, _ y: Int, _ x: Int) -> SIMD8<Float> {
        y >= 0 && y < height && x >= 0 && x < width ? load8(p + (y * width + x) * b) : SIMD8()
    }

    /// `Aᵀ m A` of one tile's 16 products for eight output channels, through the epilogue into the output.
    @inline(__always)
    func transformOutput<A, R>(tile: Int, row: Int, rows: Int, channel k: Int, products: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>, epilogue: TileEpilogue<A, R>) {
        @inline(__always) func m(_ p: Int) -> SIMD8<Float> { load8(products + (p * rows + row) * 16) }
        // Aᵀ over the rows (m0 + m1 + m2, m1 − m2 − m3), then A over the columns.
        let s0 = (m(0) + m(4) + m(8), m(1) + m(5) + m(9), m(2) + m(6) + m(10), m(3) + m(7) + m(11))
        let s1 = (m(4) - m(8) - m(12), m(5) - m(9) - m(13), m(6) - m(10) - m(14), m(7) - m(11) - m(15))
        let bv = bias.map { load8($0 + k) } ?? SIMD8()
        let n = tile / perImage, r = tile % perImage
        let oy = (r / tileColumns) * 2, ox = (r % tileColumns) * 2
        let cout = shape.outChannels
        let q = output + ((n * cout / b + k / b) * outHeight + oy) * outWidth * b + ox * b + (k % b)
        let right = ox + 1 < outWidth, below = oy + 1 < outHeight
        epilogue.store(s0.0 + s0.1 + s0.2, bv, q)
        if right { epilogue.store(s0.1 - s0.2 - s0.3, bv, q + b) }
        if below {
            let q1 = q + outWidth * b
            epilogue.store(s1.0 + s1.1 + s1.2, bv, q1)
            if right { epilogue.store(s1.1 - s1.2 - s1.3, bv, q1 + b) }
        }
    }
}

/// Winograd's transforms in AVX-512 registers (`MPQGEMM.WinogradTiles16`) with the layer's activations in their form.
struct WideTiles {
    let tiles: WinogradTiles16
    let activation: TileActivation16
    let residual: TileActivation16?

    /// Nil unless blocks are 16 channels wide (call only where the CPU has AVX-512: `TileGrid.wideRegisters`).
    init?(_ shape: Conv2DShape, blockSize: Int, activation: Activation, residual: Activation?) {
        guard blockSize == 16, let a = TileActivation16(activation) else { return nil }
        if let residual {
            guard let r = TileActivation16(residual) else { return nil }
            self.residual = r
        } else {
            self.residual = nil
        }
        let h = shape.window.height, w = shape.window.width
        tiles = WinogradTiles16(inChannels: shape.inChannels, outChannels: shape.outChannels, height: h.input,
                                width: w.input, outHeight: h.output, outWidth: w.output, padTop: h.padBegin, padLeft: w.padBegin)
        self.activation = a
    }
}

extension TileActivation16 {
    /// The register form of an activation Winograd's tile epilogues apply (none, ReLU, Clip), or nil.
    init?(_ activation: Activation) {
        switch activation {
        case .none: self = .identity
        case .relu: self = .relu
        case let .clip(lo, hi): self = .clip(lo: lo, hi: hi)
        default: return nil
        }
    }
}

/// Scratch buffers for blocks of tiles, kept between calls (fresh ones of a few MB page-fault on every call).
final class WinogradScratch: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>
    let floats: Int

    private init(floats: Int) {
        self.floats = floats
        p = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).assumingMemoryBound(to: Float.self)
    }

    deinit { p.deallocate() }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var pool: [WinogradScratch] = []

    /// A buffer of at least `floats` floats, from the pool when one is large enough.
    static func take(floats: Int) -> WinogradScratch {
        lock.lock()
        defer { lock.unlock() }
        if let i = pool.firstIndex(where: { $0.floats >= floats }) { return pool.remove(at: i) }
        if !pool.isEmpty { pool.removeFirst() }
        return WinogradScratch(floats: floats)
    }

    static func give(_ scratch: WinogradScratch) {
        lock.lock()
        pool.append(scratch)
        lock.unlock()
    }
}
