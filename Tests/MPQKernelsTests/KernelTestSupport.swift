import MPQKernels

/// Deterministic pseudo-random floats in [-1, 1) (SplitMix64).
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int) -> [Float] {
        (0..<n).map { _ in Float(next() >> 40) / Float(1 << 23) - 1 }
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "count \(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count {
        if a[i].isInfinite || b[i].isInfinite { if a[i] != b[i] { return .infinity }; continue }
        m = max(m, abs(a[i] - b[i]))
    }
    return m
}

/// Plain nested-loop convolution (NCHW, ONNX semantics).
func referenceConv(_ s: Conv2DShape, input: [Float], weights: [Float], bias: [Float]?) -> [Float] {
    let h = s.window.height, w = s.window.width
    let cinG = s.inChannels / s.group, coutG = s.outChannels / s.group
    var out = [Float](repeating: 0, count: s.outputCount)
    for n in 0..<s.batch {
        for oc in 0..<s.outChannels {
            let g = oc / coutG
            for oh in 0..<h.output {
                for ow in 0..<w.output {
                    var acc: Float = bias?[oc] ?? 0
                    for icg in 0..<cinG {
                        let ic = g * cinG + icg
                        for kh in 0..<h.kernel {
                            let ih = oh * h.stride - h.padBegin + kh * h.dilation
                            if ih < 0 || ih >= h.input { continue }
                            for kw in 0..<w.kernel {
                                let iw = ow * w.stride - w.padBegin + kw * w.dilation
                                if iw < 0 || iw >= w.input { continue }
                                let x = input[((n * s.inChannels + ic) * h.input + ih) * w.input + iw]
                                let k = weights[((oc * cinG + icg) * h.kernel + kh) * w.kernel + kw]
                                acc += x * k
                            }
                        }
                    }
                    out[((n * s.outChannels + oc) * h.output + oh) * w.output + ow] = acc
                }
            }
        }
    }
    return out
}

/// Plain nested-loop pooling (max, or average with ONNX Runtime's count_include_pad divisor).
func referencePool(_ win: Window2D, planes: Int, input: [Float], max isMax: Bool, countIncludePad: Bool = false) -> [Float] {
    let h = win.height, w = win.width
    var out: [Float] = []
    for p in 0..<planes {
        for oh in 0..<h.output {
            for ow in 0..<w.output {
                var m = -Float.infinity, sum: Float = 0, count = 0
                for kh in 0..<h.kernel {
                    let ih = oh * h.stride - h.padBegin + kh * h.dilation
                    for kw in 0..<w.kernel {
                        let iw = ow * w.stride - w.padBegin + kw * w.dilation
                        let inside = ih >= 0 && ih < h.input && iw >= 0 && iw < w.input
                        let inPadded = ih < h.input + h.padEnd && iw < w.input + w.padEnd
                        if inside {
                            let v = input[(p * h.input + ih) * w.input + iw]
                            m = Swift.max(m, v); sum += v
                        }
                        if countIncludePad ? inPadded : inside { count += 1 }
                    }
                }
                out.append(isMax ? m : (count > 0 ? sum / Float(count) : 0))
            }
        }
    }
    return out
}

/// Naive row-major C = alpha·op(A)·op(B) + beta·C.
func referenceGemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                   b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
    var out = c
    for i in 0..<m {
        for j in 0..<n {
            var acc: Float = 0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                acc += av * bv
            }
            out[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
    return out
}
