/// Output size and padding of a sliding window along one spatial axis, following ONNX's rules for
/// Conv, MaxPool and AveragePool.
public struct WindowAxis: Sendable, Hashable {
    /// Input extent along the axis.
    public var input: Int
    public var kernel: Int
    public var stride: Int
    public var dilation: Int
    /// Padding before the first and after the last input element.
    public var padBegin: Int
    public var padEnd: Int
    /// Number of window positions.
    public var output: Int

    public init(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int, output: Int) {
        self.input = input; self.kernel = kernel; self.stride = stride; self.dilation = dilation
        self.padBegin = padBegin; self.padEnd = padEnd; self.output = output
    }

    /// Extent covered by one dilated window: `(kernel - 1) · dilation + 1`.
    public var effectiveKernel: Int { (kernel - 1) * dilation + 1 }

    /// How the padding is chosen (ONNX `auto_pad`).
    public enum AutoPad: String, Sendable {
        case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"
    }

    /// Resolves the output size (and, for SAME_*, the padding) for one axis.
    ///
    /// - NOTSET: `out = floor|ceil((in + pads - effKernel) / stride) + 1`; with `ceilMode`, a last
    ///   window that would start past the input and the begin padding is dropped.
    /// - VALID: no padding, `out = floor((in - effKernel) / stride) + 1`.
    /// - SAME_UPPER / SAME_LOWER: `out = ceil(in / stride)`, total padding
    ///   `max(0, (out - 1) · stride + effKernel - in)` split with the odd element at the end (UPPER)
    ///   or the beginning (LOWER). `padBegin`/`padEnd` are ignored.
    /// Returns nil when the window does not fit (output would be < 1) or an argument is invalid.
    public static func resolve(input: Int, kernel: Int, stride: Int, dilation: Int,
                               padBegin: Int, padEnd: Int, autoPad: AutoPad, ceilMode: Bool = false) -> WindowAxis? {
        guard input >= 0, kernel >= 1, stride >= 1, dilation >= 1, padBegin >= 0, padEnd >= 0 else { return nil }
        let eff = (kernel - 1) * dilation + 1
        switch autoPad {
        case .notSet, .valid:
            let pb = autoPad == .valid ? 0 : padBegin, pe = autoPad == .valid ? 0 : padEnd
            let span = input + pb + pe - eff
            guard span >= 0 else { return nil }
            var out: Int
            if ceilMode && autoPad == .notSet {
                out = (span + stride - 1) / stride + 1
                if (out - 1) * stride >= input + pb { out -= 1 }
            } else {
                out = span / stride + 1
            }
            return WindowAxis(input: input, kernel: kernel, stride: stride, dilation: dilation,
                              padBegin: pb, padEnd: pe, output: out)
        case .sameUpper, .sameLower:
            let out = (input + stride - 1) / stride
            guard out >= 1 else { return nil }
            let total = max(0, (out - 1) * stride + eff - input)
            let small = total / 2, big = total - small
            let (pb, pe) = autoPad == .sameUpper ? (small, big) : (big, small)
            return WindowAxis(input: input, kernel: kernel, stride: stride, dilation: dilation,
                              padBegin: pb, padEnd: pe, output: out)
        }
    }
}

/// A 2-D window over NCHW planes: the height and width axes.
public struct Window2D: Sendable, Hashable {
    public var height: WindowAxis
    public var width: WindowAxis
    public init(height: WindowAxis, width: WindowAxis) { self.height = height; self.width = width }

    /// A window from explicit parameters; the output size is computed with floor rounding
    /// (or ceil when `ceilMode`). Returns nil when the window does not fit.
    public init?(inputHeight: Int, inputWidth: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                 dilation: (Int, Int) = (1, 1), pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                 ceilMode: Bool = false) {
        guard let h = WindowAxis.resolve(input: inputHeight, kernel: kernel.0, stride: stride.0, dilation: dilation.0,
                                         padBegin: pads.top, padEnd: pads.bottom, autoPad: .notSet, ceilMode: ceilMode),
              let w = WindowAxis.resolve(input: inputWidth, kernel: kernel.1, stride: stride.1, dilation: dilation.1,
                                         padBegin: pads.left, padEnd: pads.right, autoPad: .notSet, ceilMode: ceilMode)
        else { return nil }
        self.init(height: h, width: w)
    }

    /// The range of output positions `o` along an axis whose window start `o·stride - padBegin + j·dilation`
    /// (for kernel tap `j`) lies inside `[0, input)`.
    @inline(__always)
    static func validOutputs(_ a: WindowAxis, tap j: Int) -> Range<Int> {
        let offset = j &* a.dilation &- a.padBegin          // input index = o·stride + offset
        // smallest o with o·stride + offset >= 0
        let lo = offset >= 0 ? 0 : (-offset + a.stride - 1) / a.stride
        // largest o with o·stride + offset <= input - 1
        let lastNum = a.input - 1 - offset
        let hi = lastNum < 0 ? 0 : min(a.output, lastNum / a.stride + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }
}

extension WindowAxis {
    /// The first input position of output `o`'s window and the kernel offsets `first..<end` that fall inside the
    /// input (a contiguous range).
    func taps(at o: Int) -> (start: Int, first: Int, end: Int) {
        let start = o &* stride &- padBegin
        var first = 0, end = kernel
        while first < end && start &+ first &* dilation < 0 { first &+= 1 }
        while end > first && start &+ (end &- 1) &* dilation >= input { end &-= 1 }
        return (start, first, end)
    }
}
