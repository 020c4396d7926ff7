import Testing
@testable import MPQKernels
import MPQGEMM

/// `batch` NCHW images in `ChannelBlocks`' layout (the inverse of `ChannelBlocks.unblock`, from the layout's definition).
private func blocked(_ plain: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
    let b = ChannelBlocks.size
    var out = [Float](repeating: .nan, count: plain.count)
    for n in 0..<batch { for c in 0..<channels { for p in 0..<plane {
        out[((n * (channels / b) + c / b) * plane + p) * b + c % b] = plain[(n * channels + c) * plane + p]
    }}}
    return out
}

private func unblocked(_ values: [Float], batch: Int, channels: Int, plane: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: values.count)
    ChannelBlocks.unblock(values, into: &out, batch: batch, channels: channels, plane: plane)
    return out
}

@Test("Max pooling on blocks gives the NCHW kernel's results exactly (odd sizes, padding, ceil mode, dilation)")
func blockedMaxPoolMatchesThePlainKernel() throws {
    let b = ChannelBlocks.size, (n, c, h, w) = (2, 2 * ChannelBlocks.size, 9, 7)
    let windows: [Window2D?] = [
        Window2D(inputHeight: h, inputWidth: w, kernel: (3, 3), stride: (2, 2), pads: (1, 1, 1, 1)),
        Window2D(inputHeight: h, inputWidth: w, kernel: (2, 3), stride: (2, 1), pads: (0, 1, 1, 0), ceilMode: true),
        Window2D(inputHeight: h, inputWidth: w, kernel: (3, 2), stride: (3, 2), dilation: (2, 1), ceilMode: true),
        Window2D(inputHeight: h, inputWidth: w, kernel: (1, 1), stride: (1, 1)),
    ]
    var rng = SeededRandom(5)
    let x = rng.floats(n * c * h * w)
    for case let window? in windows {
        let outPlane = window.height.output * window.width.output
        var expected = [Float](repeating: .nan, count: n * c * outPlane)
        Pool2D.max(window, planes: n * c, input: x, output: &expected, threads: 1)
        var got = [Float](repeating: .nan, count: expected.count)
        Pool2D.maxBlocked(window, blocks: n * c / b, input: blocked(x, batch: n, channels: c, plane: h * w), output: &got)
        #expect(unblocked(got, batch: n, channels: c, plane: outPlane) == expected, "\(window)")
    }
}

@Test("oneDNN convolutions with blocked sides, and a residual summed in, match the reference on odd sizes")
func blockedConvolutionsMatchTheReference() throws {
    try #require(Gemm.backend == .oneDNN && OneDNNConvolution.enabled)
    let b = ChannelBlocks.size
    let cases = [
        ConvCase(n: 3, cin: b, cout: 2 * b, h: 9, w: 7, pads: (1, 1, 1, 1)),                                  // 3×3
        ConvCase(n: 2, cin: 2 * b, cout: b, h: 11, w: 9, stride: (2, 2), pads: (1, 0, 1, 2)),                // stride 2, odd pads
        ConvCase(n: 2, cin: b, cout: b, h: 9, w: 9, dilation: (2, 2), pads: (2, 2, 2, 2), bias: false),      // dilated
        ConvCase(n: 3, cin: 2 * b, cout: b, h: 7, w: 5, kh: 1, kw: 1),                                       // 1×1
        ConvCase(n: 2, cin: b, cout: 2 * b, h: 9, w: 7, kh: 1, kw: 1, stride: (2, 2)),                       // 1×1 stride 2
        ConvCase(n: 3, cin: 2 * b, cout: 2 * b, group: 2 * b, h: 13, w: 11, kh: 5, kw: 5, pads: (2, 2, 2, 2)), // depthwise
        ConvCase(n: 2, cin: 3, cout: b, h: 11, w: 13, kh: 7, kw: 7, stride: (2, 2), pads: (3, 3, 3, 3)),     // 3-channel stem
    ]
    let layouts = [ConvolutionLayout(blockedInput: true, blockedOutput: true), ConvolutionLayout(blockedInput: true),
                   ConvolutionLayout(blockedOutput: true)]
    for c in cases {
        let s = c.shape
        let (inPlane, outPlane) = (c.h * c.w, s.window.height.output * s.window.width.output)
        var rng = SeededRandom(UInt64(s.inputCount))
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), bias = c.bias ? rng.floats(s.outChannels) : nil
        let residual = rng.floats(s.outputCount)
        let plain = referenceConv(s, input: x, weights: w, bias: bias)
        for layout in layouts where !layout.blockedInput || ChannelBlocks.fits(channels: c.cin) {
            try #require(Conv2D.runsOnOneDNN(s, activation: .relu, layout: layout), "\(c) \(layout)")
            let input = layout.blockedInput ? blocked(x, batch: c.n, channels: c.cin, plane: inPlane) : x
            let read = { (y: [Float]) in layout.blockedOutput ? unblocked(y, batch: c.n, channels: c.cout, plane: outPlane) : y }
            for threads in [1, 2] {
                var y = [Float](repeating: .nan, count: s.outputCount)
                Conv2D.forward(s, input: input, weights: w, bias: bias, output: &y, activation: .relu, threads: threads, layout: layout)
                #expect(maxAbsDiff(read(y), plain.map { max($0, 0) }) < 1e-4, "\(c) \(layout) threads \(threads)")
            }
            // A residual in the output buffer: relu(conv + bias + residual), written where the residual was.
            guard layout.blockedOutput else { continue }
            try #require(Conv2D.runsOnOneDNN(s, activation: .none, layout: layout, residual: .relu))
            var sum = blocked(residual, batch: c.n, channels: c.cout, plane: outPlane)
            Conv2D.forward(s, input: input, weights: w, bias: bias, output: &sum, threads: 1, layout: layout, residual: .relu)
            #expect(maxAbsDiff(read(sum), zip(plain, residual).map { max($0 + $1, 0) }) < 1e-4, "\(c) \(layout) + residual")
        }
    }
    // A residual needs a blocked output and an activation oneDNN can apply before the sum.
    let s = cases[0].shape
    #expect(!OneDNNConvolution.mayRun(s, activation: .none, layout: ConvolutionLayout(blockedInput: true), residual: .relu))
    #expect(!OneDNNConvolution.mayRun(s, activation: .hardSwish, layout: ConvolutionLayout(blockedOutput: true), residual: Activation.none))
    #expect(!OneDNNConvolution.handles(ConvCase(cin: b, cout: b + 4).shape, layout: ConvolutionLayout(blockedOutput: true)))
}
