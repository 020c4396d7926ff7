import CVectorLanes
import Dispatch

/// 2-D pooling on NCHW buffers. `planes` is `batch × channels`; each input plane is
/// `window.height.input × window.width.input` and each output plane
/// `window.height.output × window.width.output`, densely packed. The caller chooses the output size
/// (floor or ceil mode) through `window`; windows may extend past the input and its padding.
public enum Pool2D {
    /// Max pooling; padding never wins (it is -∞). An output whose window covers no input element
    /// is `-Float.infinity`.
    public static func max(_ window: Window2D, planes: Int, input: UnsafePointer<Float>,
                           output: UnsafeMutablePointer<Float>, threads: Int? = nil) {
        let wh = window.height, ww = window.width
        let inPlane = wh.input * ww.input, outPlane = wh.output * ww.output
        guard outPlane > 0, planes > 0 else { return }
        let pin = SendablePointer(input), pout = SendablePointer(output)
        let outer = planes * outPlane * wh.kernel * ww.kernel >= 1 << 16 ? (threads ?? KernelThreads.count) : 1
        let st = ww.stride
        // Outputs from `first` on read no left padding; eight at a time while every tap's load stays inside the row
        // (stride 2 takes the even half of a 16-float load), in registers over the whole window, then one store.
        let first = min(ww.output, (ww.padBegin + st - 1) / st)
        let lastTap = (ww.kernel - 1) * ww.dilation - ww.padBegin
        Parallel.forEachChunk(count: planes, threads: outer) { _, range in
            for pl in range {
                let src = UnsafePointer(pin.p) + pl &* inPlane
                let dst = pout.p + pl &* outPlane
                for oh in 0..<wh.output {
                    let d = dst + oh &* ww.output
                    // Kernel rows inside the input: a contiguous range of kh.
                    let (top, kh0, kh1) = wh.taps(at: oh)
                    // Taps in the order of the scalar loop (rows, then columns), so the vector path gives the same
                    // results, NaN included.
                    @inline(__always) func scalar(_ ow: Int) {
                        var m = -Float.infinity
                        for kh in kh0..<kh1 {
                            let line = src + (top &+ kh &* wh.dilation) &* ww.input
                            for kw in 0..<ww.kernel {
                                let x = ow &* st &+ kw &* ww.dilation &- ww.padBegin
                                if x < 0 || x >= ww.input { continue }
                                let v = line[x]
                                m = v > m ? v : m
                            }
                        }
                        d[ow] = m
                    }
                    for ow in 0..<first { scalar(ow) }
                    var ow = first
                    // The last full chunk is shifted left to end where the loads must (it recomputes a few outputs).
                    let lastStart = min(ww.output, (ww.input &- lastTap) / st) &- 8
                    if st <= 2 && lastStart >= first {
                        while ow < lastStart &+ 8 {
                            let o = min(ow, lastStart)
                            var m = SIMD8<Float>(repeating: -.infinity)
                            for kh in kh0..<kh1 {
                                let line = src + (top &+ kh &* wh.dilation) &* ww.input
                                for kw in 0..<ww.kernel {
                                    let p = line + (o &* st &+ kw &* ww.dilation &- ww.padBegin)
                                    let v = st == 1 ? load8(p) : UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self).evenHalf
                                    m = mpq_max8(v, m)
                                }
                            }
                            store8(m, d + o)
                            ow = o &+ 8
                        }
                    }
                    while ow < ww.output { scalar(ow); ow &+= 1 }
                }
            }
        }
    }

    /// Average pooling. With `countIncludePad`, the divisor counts window taps inside the padded
    /// extent `[-padBegin, input + padEnd)` (taps past that, possible in ceil mode, are not counted);
    /// otherwise only taps inside the input. An output with a zero divisor is 0.
    public static func average(_ window: Window2D, planes: Int, countIncludePad: Bool,
                               input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, threads: Int? = nil) {
        let wh = window.height, ww = window.width
        let inPlane = wh.input * ww.input, outPlane = wh.output * ww.output
        guard outPlane > 0, planes > 0 else { return }
        let validW = (0..<ww.kernel).map { Window2D.validOutputs(ww, tap: $0) }
        func counts(_ a: WindowAxis) -> [Float] {
            (0..<a.output).map { o in
                var c = 0
                for j in 0..<a.kernel {
                    let p = o * a.stride - a.padBegin + j * a.dilation
                    if countIncludePad ? (p >= -a.padBegin && p < a.input + a.padEnd) : (p >= 0 && p < a.input) { c += 1 }
                }
                return Float(c)
            }
        }
        let countH = counts(wh), countW = counts(ww)
        var inverse = [Float](repeating: 0, count: outPlane)
        for oh in 0..<wh.output {
            for ow in 0..<ww.output {
                let c = countH[oh] * countW[ow]
                inverse[oh * ww.output + ow] = c > 0 ? 1 / c : 0
            }
        }
        let pin = SendablePointer(input), pout = SendablePointer(output)
        let outer = planes * outPlane * wh.kernel * ww.kernel >= 1 << 16 ? (threads ?? KernelThreads.count) : 1
        inverse.withUnsafeBufferPointer { invBuf in
            let pinv = SendablePointer(invBuf.baseAddress!)
            Parallel.forEachChunk(count: planes, threads: outer) { _, range in
                for pl in range {
                    let src = UnsafePointer(pin.p) + pl &* inPlane
                    let dst = pout.p + pl &* outPlane
                    for oh in 0..<wh.output {
                        let d = dst + oh &* ww.output
                        d.update(repeating: 0, count: ww.output)
                        for kh in 0..<wh.kernel {
                            let ih = oh &* wh.stride &- wh.padBegin &+ kh &* wh.dilation
                            if ih < 0 || ih >= wh.input { continue }
                            let line = src + ih &* ww.input
                            for kw in 0..<ww.kernel {
                                let off = kw &* ww.dilation &- ww.padBegin
                                let st = ww.stride
                                for ow in validW[kw] { d[ow] += line[ow &* st &+ off] }
                            }
                        }
                        let inv = pinv.p + oh &* ww.output
                        for ow in 0..<ww.output { d[ow] *= inv[ow] }
                    }
                }
            }
        }
    }

    /// Global average pooling: `output[p] = mean(input[p·size ..< (p+1)·size])` for each of `planes`
    /// contiguous planes of `size` elements.
    public static func globalAverage(planes: Int, size: Int, input: UnsafePointer<Float>,
                                     output: UnsafeMutablePointer<Float>) {
        guard planes > 0 else { return }
        let scale: Float = size > 0 ? 1 / Float(size) : 0
        for pl in 0..<planes {
            let src = input + pl &* size
            var acc = SIMD8<Float>(repeating: 0)
            var i = 0
            while i &+ 8 <= size {
                acc += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
                i &+= 8
            }
            var sum = acc.sum()
            while i < size { sum += src[i]; i &+= 1 }
            output[pl] = sum * scale
        }
    }
}
