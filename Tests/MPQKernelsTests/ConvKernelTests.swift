import Testing
@testable import MPQKernels
import MPQGEMM

struct ConvCase: CustomStringConvertible, Sendable {
    var n = 1, cin = 1, cout = 1, group = 1, h = 5, w = 5, kh = 3, kw = 3
    var stride = (1, 1), dilation = (1, 1), pads = (top: 0, left: 0, bottom: 0, right: 0)
    var bias = true
    var description: String {
        "n\(n) c\(cin)->\(cout) g\(group) \(h)x\(w) k\(kh)x\(kw) s\(stride) d\(dilation) p\(pads) bias \(bias)"
    }
    var shape: Conv2DShape {
        Conv2DShape(batch: n, inChannels: cin, outChannels: cout, group: group,
                    window: Window2D(inputHeight: h, inputWidth: w, kernel: (kh, kw), stride: stride,
                                     dilation: dilation, pads: pads)!)
    }
}

func runConv(_ s: Conv2DShape, _ x: [Float], _ wt: [Float], _ b: [Float]?, threads: Int, allowOneDNN: Bool = true) -> [Float] {
    var out = [Float](repeating: .nan, count: s.outputCount)
    x.withUnsafeBufferPointer { xp in
        wt.withUnsafeBufferPointer { wp in
            out.withUnsafeMutableBufferPointer { op in
                if let b {
                    b.withUnsafeBufferPointer { bp in
                        Conv2D.forward(s, input: xp.baseAddress!, weights: wp.baseAddress!, bias: bp.baseAddress!,
                                       output: op.baseAddress!, threads: threads, allowOneDNN: allowOneDNN)
                    }
                } else {
                    Conv2D.forward(s, input: xp.baseAddress!, weights: wp.baseAddress!, bias: nil,
                                   output: op.baseAddress!, threads: threads, allowOneDNN: allowOneDNN)
                }
            }
        }
    }
    return out
}

let convCases: [ConvCase] = [
    ConvCase(cin: 3, cout: 4, h: 6, w: 6, pads: (1, 1, 1, 1)),                                  // same padding
    ConvCase(n: 2, cin: 3, cout: 5, h: 7, w: 9, stride: (2, 2), pads: (1, 1, 1, 1)),              // odd sizes, stride 2
    ConvCase(n: 2, cin: 2, cout: 3, h: 7, w: 9, kh: 3, kw: 2, stride: (2, 1), pads: (0, 1, 2, 0)), // asymmetric pads
    ConvCase(n: 3, cin: 4, cout: 6, group: 2, h: 5, w: 6, pads: (1, 1, 1, 1)),                   // groups
    ConvCase(cin: 2, cout: 2, h: 9, w: 9, dilation: (2, 2), pads: (2, 2, 2, 2)),                   // dilation
    ConvCase(cin: 2, cout: 3, h: 8, w: 7, dilation: (1, 3), pads: (0, 1, 1, 2), bias: false),      // dilation, no bias
    ConvCase(n: 2, cin: 5, cout: 3, h: 7, w: 9, kh: 1, kw: 1),                                   // 1×1 fast path
    ConvCase(n: 2, cin: 5, cout: 3, h: 7, w: 9, kh: 1, kw: 1, bias: false),                      // 1×1 no bias
    ConvCase(cin: 4, cout: 8, h: 7, w: 9, kh: 1, kw: 1, stride: (2, 2)),                         // 1×1 stride 2
    ConvCase(cin: 3, cout: 4, h: 21, w: 31, kh: 1, kw: 1),                                      // 1×1 split in column blocks
    ConvCase(cin: 3, cout: 4, h: 21, w: 31, pads: (1, 1, 1, 1)),                                 // one image, one group
    ConvCase(n: 2, cin: 4, cout: 4, group: 2, h: 6, w: 5, kh: 1, kw: 1),                         // grouped 1×1
    ConvCase(n: 2, cin: 3, cout: 3, group: 3, h: 7, w: 9, pads: (1, 1, 1, 1)),                   // depthwise ×1
    ConvCase(n: 2, cin: 3, cout: 6, group: 3, h: 7, w: 9, pads: (1, 1, 1, 1)),                   // depthwise ×2
    ConvCase(cin: 4, cout: 4, group: 4, h: 9, w: 11, stride: (2, 2), pads: (1, 1, 1, 1)),        // depthwise stride 2
    ConvCase(cin: 2, cout: 4, group: 2, h: 9, w: 11, stride: (2, 2), pads: (0, 0, 1, 1), bias: false), // dw asym
    ConvCase(n: 2, cin: 3, cout: 3, group: 3, h: 13, w: 45, kh: 5, kw: 5, stride: (1, 2), pads: (2, 1, 2, 3)),
    ConvCase(cin: 3, cout: 6, group: 3, h: 6, w: 70, kh: 3, kw: 3, dilation: (2, 2), pads: (2, 2, 2, 2)), // dw dilation, wide
    ConvCase(cin: 2, cout: 2, group: 2, h: 8, w: 40, kh: 3, kw: 3, stride: (3, 3), pads: (1, 0, 1, 2)),  // dw stride 3
    ConvCase(cin: 1, cout: 2, h: 4, w: 4, kh: 4, kw: 4),                                           // kernel = input
    ConvCase(cin: 2, cout: 2, h: 3, w: 3, kh: 2, kw: 2, pads: (3, 3, 3, 3)),                        // all-padding rows
    // Channel counts that are not a multiple of oneDNN's 16-channel blocks, odd planes, stride 2.
    ConvCase(n: 3, cin: 17, cout: 19, h: 11, w: 13, stride: (2, 2), pads: (1, 1, 1, 1)),
    ConvCase(n: 2, cin: 33, cout: 40, h: 9, w: 7, kh: 5, kw: 5, dilation: (2, 1), pads: (4, 2, 3, 1)),
    ConvCase(n: 4, cin: 3, cout: 24, h: 23, w: 21, kh: 7, kw: 7, stride: (2, 2), pads: (3, 3, 3, 3)),  // ResNet stem
    ConvCase(n: 5, cin: 19, cout: 19, group: 19, h: 5, w: 7, pads: (1, 1, 1, 1)),                  // small-plane depthwise
    ConvCase(n: 2, cin: 21, cout: 21, group: 21, h: 9, w: 9, kh: 5, kw: 5, stride: (2, 2), pads: (1, 2, 2, 1)),
    ConvCase(n: 2, cin: 18, cout: 18, group: 18, h: 7, w: 7, dilation: (2, 2), pads: (2, 2, 2, 2), bias: false),
    // Depthwise block shapes: rows of 1, 7 and 8 columns (8-row blocks, overhanging stores), 9–16
    // (one 16-column block), 17–31 (last block shifted left), 32 and wider (one row × 32 columns).
    ConvCase(n: 2, cin: 5, cout: 5, group: 5, h: 11, w: 1, kh: 3, kw: 1, pads: (1, 0, 1, 0)),
    ConvCase(n: 3, cin: 6, cout: 6, group: 6, h: 11, w: 11, kh: 5, kw: 5),                      // 7×7
    ConvCase(cin: 4, cout: 4, group: 4, h: 17, w: 8, pads: (1, 1, 1, 1)),                         // 17×8
    ConvCase(n: 2, cin: 3, cout: 3, group: 3, h: 14, w: 14, kh: 5, kw: 5, pads: (2, 2, 2, 2)),    // 14×14
    ConvCase(cin: 3, cout: 3, group: 3, h: 6, w: 13, pads: (1, 1, 1, 1)),                         // 6×13
    ConvCase(cin: 2, cout: 2, group: 2, h: 9, w: 28, pads: (1, 1, 1, 1)),                         // 28 wide
    ConvCase(cin: 2, cout: 2, group: 2, h: 5, w: 32, pads: (1, 1, 1, 1)),                         // 32 wide
    ConvCase(n: 2, cin: 3, cout: 3, group: 3, h: 7, w: 45, kh: 5, kw: 5, pads: (2, 2, 2, 2)),     // 45 wide
    ConvCase(cin: 3, cout: 3, group: 3, h: 9, w: 99, stride: (2, 2), pads: (0, 0, 1, 1)),         // stride 2, wide rows
    // Stride 2 across rows of 16 and 17 (SIMD de-interleaving of a row shorter than two blocks), with a
    // channel multiplier, dilation, and a left pad of 2.
    ConvCase(n: 2, cin: 5, cout: 10, group: 5, h: 10, w: 16, stride: (1, 2), dilation: (1, 2), pads: (1, 2, 2, 1)),
    ConvCase(n: 3, cin: 4, cout: 4, group: 4, h: 17, w: 17, stride: (2, 2), pads: (1, 1, 1, 1)),
    // The direct pointwise kernel (6 channels × 16 pixels per block): a plane of 63 (last run shifted left) and 13
    // channels (last block shifted up); exactly 16 pixels, one image (channels split in two), a deep 4×4 plane; a
    // plane cut into two tiles; channels 6, the smallest block.
    ConvCase(n: 3, cin: 5, cout: 13, h: 7, w: 9, kh: 1, kw: 1),
    ConvCase(cin: 24, cout: 13, h: 4, w: 4, kh: 1, kw: 1, bias: false),
    ConvCase(n: 2, cin: 40, cout: 14, h: 4, w: 4, kh: 1, kw: 1),
    ConvCase(n: 2, cin: 24, cout: 20, h: 27, w: 29, kh: 1, kw: 1),
    ConvCase(n: 1, cin: 3, cout: 6, h: 5, w: 17, kh: 1, kw: 1),
    // A single input channel takes the depthwise kernel with a channel multiplier (grey-image stems).
    ConvCase(n: 3, cin: 1, cout: 16, h: 8, w: 8, pads: (1, 1, 1, 1)),
    ConvCase(n: 2, cin: 1, cout: 5, h: 11, w: 9, stride: (2, 2), pads: (1, 0, 1, 1), bias: false),
]

@Test("conv matches a naive reference", arguments: convCases)
func convMatchesReference(_ c: ConvCase) {
    let s = c.shape
    var rng = SeededRandom(UInt64(s.outputCount * 31 + s.weightCount))
    let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount)
    let b = c.bias ? rng.floats(s.outChannels) : nil
    let expected = referenceConv(s, input: x, weights: w, bias: b)
    var results: [[Float]] = []
    for threads in [1, 2] {
        let got = runConv(s, x, w, b, threads: threads)
        #expect(maxAbsDiff(got, expected) < 1e-4, "\(c) threads \(threads)")
        results.append(got)
    }
    // Deterministic: the same bits whatever the thread count.
    #expect(results[0] == results[1], "\(c): 1 and 2 threads differ")
}

@Test("hand-written paths match the reference too", arguments: convCases)
func nativeConvMatchesReference(_ c: ConvCase) {
    let s = c.shape
    var rng = SeededRandom(UInt64(s.outputCount * 17 + s.weightCount))
    let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount)
    let b = c.bias ? rng.floats(s.outChannels) : nil
    let expected = referenceConv(s, input: x, weights: w, bias: b)
    #expect(maxAbsDiff(runConv(s, x, w, b, threads: 1, allowOneDNN: false), expected) < 1e-4, "\(c)")
    #expect(runConv(s, x, w, b, threads: 1, allowOneDNN: false) == runConv(s, x, w, b, threads: 2, allowOneDNN: false), "\(c)")
}

@Test func convLargeTilesMatchReference() {
    // Small tiles split im2col into several row tiles; batch 1 and 3 (fewer / more images than threads).
    // (Changing the tile size only changes how work is split, so concurrent tests are unaffected.)
    let saved = Conv2D.im2colTileBytes
    defer { Conv2D.im2colTileBytes = saved }
    Conv2D.im2colTileBytes = 16 * 1024
    for n in [1, 3] {
        let s = ConvCase(n: n, cin: 16, cout: 8, h: 40, w: 33, pads: (1, 1, 1, 1)).shape
        var rng = SeededRandom(7)
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), b = rng.floats(8)
        let expected = referenceConv(s, input: x, weights: w, bias: b)
        #expect(maxAbsDiff(runConv(s, x, w, b, threads: 2), expected) < 1e-3)
        #expect(maxAbsDiff(runConv(s, x, w, b, threads: 1), expected) < 1e-3)
    }
}

@Test func convHandComputed() {
    // 3×3 input 1…9, 2×2 kernel [[1, 0], [0, 1]]: each output is x[i][j] + x[i+1][j+1].
    let s = ConvCase(h: 3, w: 3, kh: 2, kw: 2).shape
    let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    #expect(runConv(s, x, [1, 0, 0, 1], nil, threads: 1) == [6, 8, 12, 14])
    #expect(runConv(s, x, [1, 0, 0, 1], [1], threads: 1) == [7, 9, 13, 15])
    // Padding 1 on every side, 2×2 kernel of ones, stride 2: sums of the padded 2×2 blocks.
    let p = ConvCase(h: 3, w: 3, kh: 2, kw: 2, stride: (2, 2), pads: (1, 1, 1, 1)).shape
    #expect(p.window.height.output == 2 && p.window.width.output == 2)
    #expect(runConv(p, x, [1, 1, 1, 1], nil, threads: 1) == [1, 5, 11, 28])
    // Depthwise, 2 channels, multiplier 1, 3×3 kernel of ones with padding 1: neighbourhood sums.
    let d = ConvCase(cin: 2, cout: 2, group: 2, h: 3, w: 3, pads: (1, 1, 1, 1)).shape
    #expect(d.isDepthwise)
    let y = runConv(d, x + x.map { -$0 }, [Float](repeating: 1, count: 18), nil, threads: 1)
    #expect(Array(y[0..<9]) == [12, 21, 16, 27, 45, 33, 24, 39, 28])
    #expect(Array(y[9..<18]) == [12, 21, 16, 27, 45, 33, 24, 39, 28].map { -$0 })
}

@Test func pathSelection() {
    #expect(ConvCase(cin: 4, cout: 4, kh: 1, kw: 1).shape.isPointwise)
    #expect(!ConvCase(cin: 4, cout: 4, kh: 1, kw: 1, stride: (2, 2)).shape.isPointwise)
    #expect(!ConvCase(cin: 4, cout: 4, kh: 1, kw: 1, pads: (1, 1, 1, 1)).shape.isPointwise)
    #expect(ConvCase(cin: 4, cout: 8, group: 4).shape.isDepthwise)
    #expect(ConvCase(cin: 1, cout: 16).shape.isDepthwise && !OneDNNConvolution.handles(ConvCase(cin: 1, cout: 16).shape))
    #expect(!ConvCase(cin: 4, cout: 4, group: 2).shape.isDepthwise)
    #expect(ConvCase(cin: 3, cout: 4, kh: 3, kw: 3).shape.flops == 2 * 4 * 9 * 3 * 9)
}

@Test func directPointwiseCasesTakeTheDirectKernel() {
    // The pointwise cases above are meant for the direct kernel; a deep plane of 49 pixels goes to sgemm.
    let direct = convCases.filter { $0.shape.isPointwise && $0.cout >= 6 && $0.group == 1 }
    #expect(direct.count == 5)
    for c in direct { #expect(Conv2D.usesDirectPointwise(c.shape), "\(c)") }
    #expect(!Conv2D.usesDirectPointwise(ConvCase(n: 2, cin: 64, cout: 16, h: 7, w: 7, kh: 1, kw: 1).shape))
    #expect(!Conv2D.usesDirectPointwise(ConvCase(n: 2, cin: 8, cout: 5, h: 7, w: 7, kh: 1, kw: 1).shape))
}

@Test("depthwise and direct pointwise kernels apply fused activations as the stand-alone ones",
      arguments: [Activation.none, .relu, .clip(min: 0, max: 6), .hardSwish, .sigmoid])
func depthwiseFusedActivation(_ activation: Activation) {
    for c in [ConvCase(n: 2, cin: 3, cout: 3, group: 3, h: 11, w: 11, kh: 5, kw: 5),
              ConvCase(cin: 2, cout: 2, group: 2, h: 9, w: 28, pads: (1, 1, 1, 1)),
              ConvCase(cin: 2, cout: 2, group: 2, h: 5, w: 45, pads: (1, 1, 1, 1)),
              ConvCase(n: 2, cin: 5, cout: 13, h: 7, w: 9, kh: 1, kw: 1)] {
        let s = c.shape
        var rng = SeededRandom(UInt64(s.outputCount))
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), b = rng.floats(s.outChannels)
        var expected = referenceConv(s, input: x, weights: w, bias: b)
        expected.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        var got = [Float](repeating: .nan, count: s.outputCount)
        Conv2D.forward(s, input: x, weights: w, bias: b, output: &got, activation: activation, threads: 1, allowOneDNN: false)
        #expect(maxAbsDiff(got, expected) < 1e-4, "\(c) \(activation)")
    }
}

@Test("oneDNN primitives apply ReLU and Clip as post-ops, other activations after them",
      arguments: [Activation.none, .relu, .clip(min: 0, max: 6), .clip(min: -0.5, max: 0.25), .hardSwish])
func oneDNNFusedActivation(_ activation: Activation) throws {
    for c in [ConvCase(n: 3, cin: 5, cout: 17, h: 9, w: 7, pads: (1, 1, 1, 1)),                        // dense 3×3
              ConvCase(n: 3, cin: 18, cout: 18, group: 18, h: 7, w: 7, stride: (2, 2), pads: (1, 1, 1, 1)), // 4×4 depthwise
              ConvCase(n: 3, cin: 16, cout: 32, h: 9, w: 7, pads: (1, 1, 1, 1)),                       // 16-channel blocks
              ConvCase(n: 2, cin: 3, cout: 16, h: 11, w: 13, kh: 5, kw: 5, stride: (2, 2), pads: (2, 1, 2, 1))] { // stem
        let s = c.shape
        guard OneDNNConvolution.handles(s), Gemm.backend == .oneDNN else { continue }
        #expect((OneDNNConvolution.activationLayouts(s) != nil) == (s.outChannels % 16 == 0), "\(c)")
        let conv = try #require(OneDNNConvolution.cached(s, activation: activation))
        let fusable = activation == .relu || activation == .clip(min: 0, max: 6) || activation == .clip(min: -0.5, max: 0.25)
        #expect(conv.fusedActivation == (fusable ? activation : nil), "\(c) \(activation)")
        var rng = SeededRandom(UInt64(s.outputCount))
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), b = rng.floats(s.outChannels)
        var expected = referenceConv(s, input: x, weights: w, bias: b)
        expected.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
        for threads in [1, 2] {
            var got = [Float](repeating: .nan, count: s.outputCount)
            Conv2D.forward(s, input: x, weights: w, bias: b, output: &got, activation: activation, threads: threads)
            #expect(maxAbsDiff(got, expected) < 1e-4, "\(c) \(activation) threads \(threads)")
            if case let .clip(lo, hi) = activation { #expect(got.allSatisfy { $0 >= lo && $0 <= hi }) }
            if activation == .relu { #expect(got.allSatisfy { $0 >= 0 } && got.contains(0)) }
        }
    }
}

/// The AVX-512 pointwise block sums each output in input-channel order with fused multiply-adds, as the AVX2 block
/// does, so both give the same bits: checked against that scalar chain exactly (a plane of 20 pixels: the second run
/// is shifted left; 12 channels, bias, Clip).
@Test func avx512PointwiseTileMatchesTheFusedScalarChain() throws {
    guard GemmBackend.cpuHasAVX512F else { return }
    let depth = 5, plane = 20, channels = 12
    var rng = SeededRandom(11)
    let x = rng.floats(depth * plane), w = rng.floats(channels * depth), b = rng.floats(channels)
    var out = [Float](repeating: .nan, count: channels * plane)
    x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            b.withUnsafeBufferPointer { bp in
                out.withUnsafeMutableBufferPointer { op in
                    PointwiseTile.run(depth: depth, plane: plane, weights: wp.baseAddress!, bias: bp.baseAddress!,
                                      source: xp.baseAddress!, destination: op.baseAddress!, channel: 0, pixels: 0, plane,
                                      clamp: .clip(-0.5, 0.5))
                }
            }
        }
    }
    for c in 0..<channels {
        for p in 0..<plane {
            var acc: Float = 0
            for i in 0..<depth { acc = acc.addingProduct(x[i * plane + p], w[c * depth + i]) }
            let expected = min(max(acc + b[c], -0.5), 0.5)
            #expect(out[c * plane + p] == expected, "channel \(c) pixel \(p)")
        }
    }
}

/// Weights reordered once per array: a cached layer gives the plain path's result, and weights changed in place
/// (which copies the array the cache holds) or handed in as another array are reordered again, never read stale.
@Test func cachedWeightsFollowEveryNewWeightArray() throws {
    let s = ConvCase(n: 3, cin: 5, cout: 17, h: 9, w: 7, pads: (1, 1, 1, 1)).shape
    guard OneDNNConvolution.handles(s), Gemm.backend == .oneDNN else { return }
    var rng = SeededRandom(5)
    let x = rng.floats(s.inputCount), b = rng.floats(s.outChannels)
    var w = rng.floats(s.weightCount)
    let cache = ConvolutionWeightCache()
    func run(_ weights: [Float], threads: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: s.outputCount)
        weights.withUnsafeBufferPointer { wp in
            Conv2D.forward(s, input: x, weights: wp.baseAddress!, bias: b, output: &out, threads: threads,
                           cachedWeights: (weights, cache))
        }
        return out
    }
    for threads in [1, 2] {
        let first = run(w, threads: threads)
        #expect(maxAbsDiff(first, referenceConv(s, input: x, weights: w, bias: b)) < 1e-4)
        #expect(run(w, threads: threads) == first)  // from the cache: the same bits
        w[0] += 1                                 // in place: the array the cache holds is copied first
        #expect(maxAbsDiff(run(w, threads: threads), referenceConv(s, input: x, weights: w, bias: b)) < 1e-4)
        let other = rng.floats(s.weightCount)
        #expect(maxAbsDiff(run(other, threads: threads), referenceConv(s, input: x, weights: other, bias: b)) < 1e-4)
    }
}
