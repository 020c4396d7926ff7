import MPQExecutor
import MPQGraph
import MPQKernels

/// Quantise-dequantise (fake quantization) of float buffers with fixed `QuantizerParameters`.
///
/// Each value follows ONNX QuantizeLinear then DequantizeLinear, operation for operation in float32:
/// code = saturate(round_half_even(x / scale) + zp, qmin, qmax) and x̂ = (code − zp) · scale. Dividing
/// by the float32 scale (not multiplying by an inverse) and rounding *before* adding the zero point
/// make simulated codes equal deployed ones, near-ties included: x / s + zp rounded as one float can
/// land on a tie that round(x / s) + zp does not (e.g. 3.4999998 + 100 = 103.5 in float32).
/// The mid-rise grid's half-integer zero point is added before rounding, round(x / s + zp), as its
/// definition says (it is not deployable, so there is no QuantizeLinear to match).
/// Per-channel parameters apply along any axis of the tensor's shape.
public struct FakeQuantizer: Sendable {
    public let parameters: QuantizerParameters

    public init(_ parameters: QuantizerParameters) { self.parameters = parameters }

    /// Fake-quantizes a float tensor (per-channel parameters need the tensor's shape).
    public func callAsFunction(_ tensor: Tensor) throws -> Tensor {
        guard let values = tensor.floats else { throw QuantizationError.notFloat("cannot quantize a \(tensor.elementType) tensor") }
        return Tensor(shape: tensor.shape, floats: try fakeQuantize(values, shape: tensor.shape))
    }

    /// A fake-quantized copy of a float tensor whose buffer stays shared (other element types are returned as
    /// they are): one pass from the shared buffer into a new one, where `quantizeInPlace` would copy first.
    public func quantized(_ tensor: Tensor) throws -> Tensor {
        tensor.floats == nil ? tensor : try self(tensor)
    }

    /// Fake-quantizes a float tensor in place (other element types are left as they are); the buffer
    /// is copied only when something else shares it.
    public func quantizeInPlace(_ tensor: inout Tensor) throws {
        guard case .float(var values) = tensor.storage else { return }
        tensor.storage = .float([])  // drop the tensor's reference, so `values` is unique when the caller's was
        defer { tensor.storage = .float(values) }
        try fakeQuantizeInPlace(&values, shape: tensor.shape)
    }

    /// Fake-quantizes a buffer of the given shape (the shape may be omitted for per-tensor parameters) into a new one.
    public func fakeQuantize(_ values: [Float], shape: [Int]? = nil) throws -> [Float] {
        let layout = try channelLayout(count: values.count, shape: shape)
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { source in
                if let s = source.baseAddress, let d = out.baseAddress { quantize(s, into: d, layout: layout) }
            }
            initialized = values.count
        }
    }

    /// Fake-quantizes a buffer in place.
    public func fakeQuantizeInPlace(_ values: inout [Float], shape: [Int]? = nil) throws {
        let layout = try channelLayout(count: values.count, shape: shape)
        values.withUnsafeMutableBufferPointer { buf in
            if let base = buf.baseAddress { quantize(base, into: base, layout: layout) }
        }
    }

    /// Runs the kernel over every channel run from `source` into `destination` (which may be `source`); a large
    /// per-tensor buffer is split over the kernel threads (values are independent, so the cut changes nothing).
    private func quantize(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, layout: ChannelLayout) {
        let p = parameters
        let (qmin, qmax) = (Float(p.qmin), Float(p.qmax))
        guard layout.channels > 1 else {
            KernelThreads.forEachRange(count: layout.outer * layout.inner, grain: Self.parallelGrain) { r in
                Self.fakeQuantize(source + r.lowerBound, into: destination + r.lowerBound, count: r.count, scale: p.scales[0],
                                  zeroPoint: p.zeroPoints[0], qmin: qmin, qmax: qmax)
            }
            return
        }
        forEachRun(layout) { offset, length, c in
            Self.fakeQuantize(source + offset, into: destination + offset, count: length, scale: p.scales[c],
                              zeroPoint: p.zeroPoints[c], qmin: qmin, qmax: qmax)
        }
    }

    /// Values below which one thread quantizes a whole buffer (a split costs more than it saves).
    static let parallelGrain = 1 << 16

    /// The integer codes of a buffer (for tests and export).
    public func codes(_ values: [Float], shape: [Int]? = nil) throws -> [Int32] {
        let layout = try channelLayout(count: values.count, shape: shape)
        let p = parameters
        var out = [Int32](repeating: 0, count: values.count)
        forEachRun(layout) { offset, length, c in
            let scale = p.scales[c], z = p.zeroPoints[c], (before, after) = Self.zeroPointSplit(z)
            for i in offset..<(offset + length) {
                let t = scale == 0 ? z : min(max((values[i] / scale + before).rounded(.toNearestOrEven) + after, Float(p.qmin)), Float(p.qmax))
                out[i] = Int32(t.rounded(.toNearestOrEven))
            }
        }
        return out
    }

    /// Real values of integer codes: (code − zeroPoint) · scale. For the mid-rise grid the zero
    /// point is half-integer, so codes map to the odd multiples of step/2.
    public func dequantize(_ codes: [Int32], shape: [Int]? = nil) throws -> [Float] {
        let layout = try channelLayout(count: codes.count, shape: shape)
        let p = parameters
        var out = [Float](repeating: 0, count: codes.count)
        forEachRun(layout) { offset, length, c in
            let s = p.scales[c], z = p.zeroPoints[c]
            for i in offset..<(offset + length) { out[i] = (Float(codes[i]) - z) * s }
        }
        return out
    }

    /// A closure for `TensorHooks`: fake-quantizes float tensors and passes other element types through.
    ///
    /// Per-channel parameters must match the tensor they are attached to; a mismatch is a
    /// programming error and stops the process with a message (hooks cannot throw). Use
    /// `validate(shape:)` beforehand when the shape is known.
    public var transform: TensorHooks.Transform {
        let quantizer = self
        return { tensor in
            var tensor = tensor
            do { try quantizer.quantizeInPlace(&tensor) } catch { preconditionFailure("fake-quantization hook: \(error)") }
            return tensor
        }
    }

    /// Checks that the parameters fit a tensor of this shape.
    public func validate(shape: [Int]) throws {
        _ = try channelLayout(count: Tensor.count(of: shape), shape: shape)
    }

    // MARK: - Layout

    struct ChannelLayout {
        var outer: Int
        var channels: Int
        var inner: Int
    }

    func channelLayout(count: Int, shape: [Int]?) throws -> ChannelLayout {
        guard let axis = parameters.axis else {
            if parameters.channelCount != 1 {
                throw QuantizationError.channelMismatch("\(parameters.channelCount) scales without an axis")
            }
            return ChannelLayout(outer: 1, channels: 1, inner: count)
        }
        guard let shape else { throw QuantizationError.channelMismatch("per-channel quantization needs the tensor's shape") }
        guard Tensor.count(of: shape) == count else {
            throw QuantizationError.shapeMismatch("shape \(shape) does not hold \(count) values")
        }
        guard axis < shape.count else {
            throw QuantizationError.channelMismatch("axis \(axis) is outside a rank-\(shape.count) tensor")
        }
        guard shape[axis] == parameters.channelCount else {
            throw QuantizationError.channelMismatch("tensor has \(shape[axis]) channels on axis \(axis), parameters have \(parameters.channelCount)")
        }
        return ChannelLayout(outer: shape[..<axis].reduce(1, *), channels: shape[axis], inner: shape[(axis + 1)...].reduce(1, *))
    }

    /// Calls `body(offset, length, channel)` for each contiguous run that shares one channel.
    func forEachRun(_ l: ChannelLayout, _ body: (Int, Int, Int) -> Void) {
        if l.channels == 1 { body(0, l.outer * l.inner, 0); return }
        var offset = 0
        for _ in 0..<l.outer {
            for c in 0..<l.channels {
                body(offset, l.inner, c)
                offset += l.inner
            }
        }
    }

    // MARK: - Kernel

    /// The zero point's parts added before and after rounding: (0, zp) for an integer zero point
    /// (QuantizeLinear: round(x / s) + zp), (zp, 0) for the mid-rise grid's half-integer one.
    @inline(__always)
    static func zeroPointSplit(_ zeroPoint: Float) -> (before: Float, after: Float) {
        zeroPoint == zeroPoint.rounded() ? (0, zeroPoint) : (zeroPoint, 0)
    }

    /// The fake-quantization kernel on raw memory, 16 lanes at a time, in QuantizeLinear's order:
    /// divide, round half to even, add the zero point, saturate; then DequantizeLinear's (q − zp) · s.
    /// A half-integer (mid-rise) zero point is added before rounding instead (`zeroPointSplit`).
    /// `source` may equal `destination` (in place).
    @inline(__always)
    static func fakeQuantize(_ source: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, count: Int, scale: Float,
                             zeroPoint: Float, qmin: Float, qmax: Float) {
        // A zero step (α = 0) maps everything to zero.
        guard scale != 0 else {
            p.update(repeating: 0, count: count)
            return
        }
        let (before, after) = zeroPointSplit(zeroPoint)
        var i = 0
        if count >= 16 {
            let reciprocal = ReciprocalRounding(scale: scale, zeroPoint: zeroPoint, qmin: qmin, qmax: qmax)
            let s = SIMD16<Float>(repeating: scale)
            let z = SIMD16<Float>(repeating: zeroPoint)
            let zb = SIMD16<Float>(repeating: before), za = SIMD16<Float>(repeating: after)
            let lo = SIMD16<Float>(repeating: qmin), hi = SIMD16<Float>(repeating: qmax)
            let raw = UnsafeMutableRawPointer(p), input = UnsafeRawPointer(source)
            while i + 16 <= count {
                if let reciprocal {
                    // Up to the next vector near a rounding tie, which the division below does.
                    i &+= reciprocal.fakeQuantizeUntilTie(source + i, into: p + i, count: count &- i)
                    if i + 16 > count { break }
                }
                var v = input.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                v = VectorPower.clamp((v / s + zb).rounded(.toNearestOrEven) + za, lo, hi)
                v = (v - z) * s
                raw.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD16<Float>.self)
                i &+= 16
            }
        }
        while i < count {
            let t = min(max((source[i] / scale + before).rounded(.toNearestOrEven) + after, qmin), qmax)
            p[i] = (t - zeroPoint) * scale
            i &+= 1
        }
    }
}
