import Testing
@testable import MPQKernels

/// NCHW images in `[N][C / b][H][W][b]` blocks of `b` channels, and back.
private func toBlocks(_ plain: [Float], b: Int, batch: Int, channels: Int, plane: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: plain.count)
    for n in 0..<batch { for c in 0..<channels { for p in 0..<plane {
        out[((n * (channels / b) + c / b) * plane + p) * b + c % b] = plain[(n * channels + c) * plane + p]
    }}}
    return out
}

private func fromBlocks(_ values: [Float], b: Int, batch: Int, channels: Int, plane: Int) -> [Float] {
    var out = [Float](repeating: .nan, count: values.count)
    for n in 0..<batch { for c in 0..<channels { for p in 0..<plane {
        out[(n * channels + c) * plane + p] = values[((n * (channels / b) + c / b) * plane + p) * b + c % b]
    }}}
    return out
}

/// The Winograd result of `c` (blocks of `b`), unblocked; `residual` (NCHW) starts in the output buffer when given.
private func winograd(_ c: ConvCase, b: Int, x: [Float], w: [Float], bias: [Float]?, activation: Activation,
                      residual: (values: [Float], activation: Activation)? = nil, threads: Int,
                      perCall: Bool = false, wide: Bool = true) throws -> [Float] {
    let s = c.shape
    var conv = try #require(WinogradConvolution(s, blockSize: b, activation: activation, residual: residual?.activation,
                                                transformsPerCall: perCall), "\(c)")
    conv.usesWideRegisters = wide
    let outPlane = s.window.height.output * s.window.width.output
    let u = w.withUnsafeBufferPointer { conv.preparedWeights($0.baseAddress!) }
    var y = residual.map { toBlocks($0.values, b: b, batch: c.n, channels: c.cout, plane: outPlane) }
        ?? [Float](repeating: .nan, count: s.outputCount)
    let input = toBlocks(x, b: b, batch: c.n, channels: c.cin, plane: c.h * c.w)
    (bias ?? []).withUnsafeBufferPointer { bp in
        conv.forward(input: input, prepared: u, bias: bias == nil ? nil : bp.baseAddress, output: &y, threads: threads)
    }
    return fromBlocks(y, b: b, batch: c.n, channels: c.cout, plane: outPlane)
}

@Test("Winograd F(2×2, 3×3) matches the reference convolution on odd sizes, pads, channel tails and many tile blocks",
      arguments: [8, 16])
func winogradMatchesTheReference(b: Int) throws {
    let cases = [
        ConvCase(n: 3, cin: b, cout: 2 * b, h: 9, w: 7, pads: (1, 1, 1, 1)),            // odd output: partial tiles
        ConvCase(n: 2, cin: 2 * b, cout: b, h: 6, w: 5, pads: (0, 1, 2, 0)),            // asymmetric pads
        ConvCase(n: 1, cin: b, cout: 3 * b, h: 4, w: 4),                                // unpadded, one tile per image
        ConvCase(n: 2, cin: b, cout: b, h: 3, w: 3, pads: (2, 2, 2, 2), bias: false),   // more padding than input
        ConvCase(n: 2, cin: b, cout: 2 * b, h: 17, w: 15, pads: (1, 1, 1, 1)),          // 144 tiles: several blocks
    ]
    let activations: [Activation] = [.none, .relu, .clip(min: 0, max: 0.5)]
    for c in cases {
        let s = c.shape
        var rng = SeededRandom(UInt64(s.inputCount + s.outChannels))
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), bias = c.bias ? rng.floats(s.outChannels) : nil
        let plain = referenceConv(s, input: x, weights: w, bias: bias)
        for activation in activations {
            let expected = plain.map { v -> Float in
                switch activation {
                case .relu: max(v, 0)
                case let .clip(lo, hi): min(max(v, lo), hi)
                default: v
                }
            }
            let one = try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, threads: 1)
            #expect(maxAbsDiff(one, expected) < 1e-4, "\(c) \(activation)")
            // Every output is computed the same way whichever thread computes it, and whether the weights were
            // transformed once or per call.
            #expect(try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, threads: 2) == one, "\(c)")
            #expect(try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, threads: 2, perCall: true) == one, "\(c)")
        }
        // A residual in the output buffer: relu(conv + bias + residual), written where the residual was.
        let residual = rng.floats(s.outputCount)
        let summed = try winograd(c, b: b, x: x, w: w, bias: bias, activation: .none, residual: (residual, .relu), threads: 1)
        #expect(maxAbsDiff(summed, zip(plain, residual).map { max($0 + $1, 0) }) < 1e-4, "\(c) + residual")
        #expect(try winograd(c, b: b, x: x, w: w, bias: bias, activation: .none, residual: (residual, .relu), threads: 1,
                             perCall: true) == summed, "\(c) + residual, per call")
    }
}

@Test("On AVX-512 the 16-lane transforms and 12 × 16 register block give the eight-lane forms' bits",
      arguments: [8, 16])
func wideRegistersMatchTheEightLaneForms(b: Int) throws {
    let cases = [
        ConvCase(n: 3, cin: b, cout: 2 * b, h: 9, w: 7, pads: (1, 1, 1, 1)),            // partial tiles, 3 × 20 tiles
        ConvCase(n: 2, cin: 2 * b, cout: 4 * b, h: 6, w: 5, pads: (0, 1, 2, 0)),        // asymmetric pads
        ConvCase(n: 2, cin: b, cout: b, h: 3, w: 3, pads: (2, 2, 2, 2), bias: false),   // more padding than input
        ConvCase(n: 3, cin: b, cout: 2 * b, h: 17, w: 15, pads: (1, 1, 1, 1)),          // 216 tiles: three blocks
    ]
    for c in cases {
        let s = c.shape
        var rng = SeededRandom(UInt64(s.inputCount + 3 * s.outChannels))
        let x = rng.floats(s.inputCount), w = rng.floats(s.weightCount), bias = c.bias ? rng.floats(s.outChannels) : nil
        let residual = (rng.floats(s.outputCount), Activation.clip(min: -0.25, max: 0.5))
        for activation in [Activation.none, .relu, .clip(min: 0, max: 0.5)] {
            let narrow = try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, threads: 1, wide: false)
            #expect(try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, threads: 2) == narrow, "\(c) \(activation)")
            let summed = try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, residual: residual, threads: 1,
                                      wide: false)
            #expect(try winograd(c, b: b, x: x, w: w, bias: bias, activation: activation, residual: residual, threads: 1)
                    == summed, "\(c) \(activation) + residual")
        }
    }
}

@Test("Winograd is offered only for 3×3 stride-1 undilated dense convolutions over whole blocks, with activations it applies")
func winogradDeclinesOtherConvolutions() {
    let b = 8
    #expect(WinogradConvolution(ConvCase(cin: b, cout: b, pads: (1, 1, 1, 1)).shape, blockSize: b) != nil)
    let declined = [
        ConvCase(cin: b, cout: b, h: 9, w: 9, stride: (2, 2)),
        ConvCase(cin: b, cout: b, h: 9, w: 9, dilation: (2, 2)),
        ConvCase(cin: b, cout: b, h: 9, w: 9, kh: 5, kw: 5),
        ConvCase(cin: b, cout: b, h: 9, w: 9, kh: 1, kw: 1),
        ConvCase(cin: 2 * b, cout: 2 * b, group: 2),
        ConvCase(cin: b + 4, cout: b),
        ConvCase(cin: b, cout: b + 4),
    ]
    for c in declined { #expect(WinogradConvolution(c.shape, blockSize: b) == nil, "\(c)") }
    let s = ConvCase(cin: b, cout: b).shape
    #expect(WinogradConvolution(s, blockSize: b, activation: .hardSwish) == nil)
    #expect(WinogradConvolution(s, blockSize: b, residual: .sigmoid) == nil)
    #expect(WinogradConvolution(s, blockSize: 4) == nil)
}

@Test("The weight cache prepares a weight array once and again when another array comes; large layers keep panels",
      arguments: [false, true])
func winogradWeightsAreCachedPerArray(perCall: Bool) throws {
    let s = ConvCase(cin: 8, cout: 24, pads: (1, 1, 1, 1)).shape
    let conv = try #require(WinogradConvolution(s, blockSize: 8, transformsPerCall: perCall))
    #expect(conv.preparedWeightCount == (perCall ? 9 : 16) * 8 * 24)
    var rng = SeededRandom(3)
    let w = rng.floats(s.weightCount)
    let cache = ConvolutionWeightCache()
    let first = cache.winogradWeights(w, for: conv)
    #expect(first == w.withUnsafeBufferPointer { conv.preparedWeights($0.baseAddress!) })
    if perCall {
        // Panels of 16 then 8 output channels, [inChannels][9][width]: channel 17's tap 4 of input channel 3.
        let panelValue: Float = first[16 * 8 * 9 + (3 * 9 + 4) * 8 + 1], weight: Float = w[(17 * 8 + 3) * 9 + 4]
        #expect(panelValue == weight)
    }
    let again = cache.winogradWeights(w, for: conv)
    #expect(first.withUnsafeBufferPointer { a in again.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } })
    let other = w.map { $0 * 2 }
    #expect(cache.winogradWeights(other, for: conv) == first.map { $0 * 2 })
}

@Test("Layers over the weight limit transform their weights per call; smaller ones keep them transformed")
func largeLayersTransformPerCall() throws {
    let small = try #require(WinogradConvolution(ConvCase(cin: 8, cout: 8).shape, blockSize: 8))
    #expect(!small.transformsPerCall)
    let large = try #require(WinogradConvolution(ConvCase(cin: 512, cout: 512).shape, blockSize: 8))
    #expect(large.transformsPerCall == (512 * 512 * 9 > WinogradConvolution.maximumWeights))
}
