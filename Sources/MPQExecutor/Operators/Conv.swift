import MPQGraph
import MPQKernels

/// Spatial attributes shared by Conv, MaxPool and AveragePool (`strides`, `dilations`, `pads`,
/// `auto_pad`, `ceil_mode`), resolved against a 1-D or 2-D input into a 2-D window (1-D inputs get a
/// height of 1).
struct ConvPoolWindow {
    let window: Window2D

    /// - spatial: input spatial dims (1 or 2); kernel: kernel dims (same count).
    init(_ context: OperatorContext, spatial: [Int], kernel: [Int], allowDilations: Bool, allowCeilMode: Bool) throws {
        let node = context.node
        let rank = spatial.count
        func list(_ name: String, count: Int, default value: Int, minimum: Int) throws -> [Int] {
            guard let v = try node.ints(name) else { return [Int](repeating: value, count: count) }
            guard v.count == count else {
                throw context.invalid("attribute '\(name)' has \(v.count) value(s) \(v) but the input has \(rank) spatial dimension(s); give \(count) value(s)")
            }
            if let bad = v.first(where: { $0 < minimum }) {
                throw context.invalid("attribute '\(name)' contains \(bad); every value must be at least \(minimum)")
            }
            return v
        }
        let strides = try list("strides", count: rank, default: 1, minimum: 1)
        let dilations = try list("dilations", count: rank, default: 1, minimum: 1)
        if !allowDilations && dilations.contains(where: { $0 != 1 }) {
            throw context.invalid("attribute 'dilations' \(dilations) is not supported by \(node.opType) at opset \(context.opset); remove it or use dilations of 1")
        }
        let pads = try list("pads", count: 2 * rank, default: 0, minimum: 0)
        let autoPadName = try node.string("auto_pad", default: "NOTSET")
        guard let autoPad = WindowAxis.AutoPad(rawValue: autoPadName) else {
            throw context.invalid("attribute 'auto_pad' is '\(autoPadName)'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID")
        }
        let ceilMode = allowCeilMode ? try node.int("ceil_mode", default: 0) : 0
        guard ceilMode == 0 || ceilMode == 1 else {
            throw context.invalid("attribute 'ceil_mode' is \(ceilMode); expected 0 or 1")
        }
        var axes: [WindowAxis] = []
        for i in 0..<rank {
            guard let a = WindowAxis.resolve(input: spatial[i], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                                             padBegin: pads[i], padEnd: pads[i + rank], autoPad: autoPad,
                                             ceilMode: ceilMode == 1) else {
                throw context.invalid("spatial axis \(i): the window (kernel \(kernel[i]), dilation \(dilations[i])) does not fit the input of size \(spatial[i]) with pads \(pads[i])+\(pads[i + rank]) (auto_pad \(autoPadName)); use a larger input, more padding or a smaller kernel")
            }
            axes.append(a)
        }
        if rank == 1 {
            let unit = WindowAxis(input: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0, output: 1)
            window = Window2D(height: unit, width: axes[0])
        } else {
            window = Window2D(height: axes[0], width: axes[1])
        }
    }

    /// Output spatial dims in the input's rank (1 or 2).
    func outputSpatial(rank: Int) -> [Int] {
        rank == 1 ? [window.width.output] : [window.height.output, window.width.output]
    }
}

/// Checks that an input is float32 with a rank in `ranks`.
func convPoolFloatType(_ context: OperatorContext, _ index: Int, _ what: String) throws -> TensorType {
    let t = try context.inputType(index)
    guard t.elementType == .float32 else {
        throw context.invalid("\(what) (input #\(index)) is \(t.elementType); only float32 is supported")
    }
    return t
}

/// The float elements of a run-time input (validated at compile time).
@inline(__always)
func convPoolFloats(_ inputs: [Tensor?], _ index: Int) throws -> [Float] {
    guard index < inputs.count, let t = inputs[index], let v = t.floats else {
        throw GraphError.invalidInput(node: "?", opType: "?", reason: "input #\(index) is missing or not float32 at run time")
    }
    return v
}

/// ONNX Conv (1-D and 2-D), with `auto_pad`, `pads`, `strides`, `dilations`, `group` and an
/// optional bias; `kernel_shape` is inferred from the weights when absent.
public struct ConvOperator: Operator {
    public let outputTypes: [TensorType]
    let shape: Conv2DShape
    let hasBias: Bool
    /// Activation fused by the graph optimizer, applied in the convolution's epilogue.
    let activation: Activation
    /// This layer's weights in oneDNN's layout, kept between runs while the weight array is the same.
    let weightCache = ConvolutionWeightCache()
    /// The sides a channel-blocked forward pass hands over in oneDNN's blocked layout (`ExecutionPlan+ChannelBlocking`).
    private(set) var layout = ConvolutionLayout.plain
    /// Set when a channel-blocked pass fused a residual Add into this convolution: input #3 is the residual, which
    /// the result is added to in its buffer, followed by this activation (the Add's).
    private(set) var residual: Activation?

    public init(_ context: OperatorContext) throws {
        let x = try convPoolFloatType(context, 0, "X")
        let w = try convPoolFloatType(context, 1, "W")
        guard x.shape.count == 3 || x.shape.count == 4 else {
            throw context.invalid("input X has shape \(x.shape); only 1-D and 2-D convolutions (rank 3 or 4, [N, C, (H,) W]) are supported")
        }
        guard w.shape.count == x.shape.count else {
            throw context.invalid("weights W have shape \(w.shape) (rank \(w.shape.count)) but X has rank \(x.shape.count); W must be [C_out, C_in/group, kernel...]")
        }
        let group = try context.node.int("group", default: 1)
        let n = x.shape[0], cin = x.shape[1], cout = w.shape[0]
        guard group >= 1, cin % group == 0, cout % group == 0 else {
            throw context.invalid("attribute 'group' is \(group) but must be ≥ 1 and divide both input channels (\(cin)) and output channels (\(cout))")
        }
        guard w.shape[1] * group == cin else {
            throw context.invalid("weights W have shape \(w.shape): W[1] × group = \(w.shape[1]) × \(group) but X has \(cin) channels; they must match")
        }
        let kernel = Array(w.shape[2...])
        if let ks = try context.node.ints("kernel_shape"), ks != kernel {
            throw context.invalid("attribute 'kernel_shape' \(ks) does not match the weights' spatial shape \(kernel)")
        }
        guard kernel.allSatisfy({ $0 >= 1 }) else { throw context.invalid("weights W have an empty kernel \(kernel)") }
        if context.hasInput(2) {
            let b = try convPoolFloatType(context, 2, "B")
            guard b.shape == [cout] else {
                throw context.invalid("bias B has shape \(b.shape); expected [\(cout)] (one value per output channel)")
            }
        }
        hasBias = context.hasInput(2)
        activation = try fusedActivation(context)
        let spatial = Array(x.shape[2...])
        let sw = try ConvPoolWindow(context, spatial: spatial, kernel: kernel, allowDilations: true, allowCeilMode: false)
        shape = Conv2DShape(batch: n, inChannels: cin, outChannels: cout, group: group, window: sw.window)
        outputTypes = [TensorType(.float32, [n, cout] + sw.outputSpatial(rank: spatial.count))]
    }

    /// Whether oneDNN may run this convolution with `layout`'s sides blocked (and `residual` fused): a cheap check
    /// that `isRunnable` confirms for the form chosen.
    func mayRun(_ layout: ConvolutionLayout, residual: Activation? = nil) -> Bool {
        Gemm.backend == .oneDNN && shape.outputCount > 0
            && OneDNNConvolution.mayRun(shape, activation: activation, layout: layout, residual: residual)
    }

    /// This convolution with `layout`'s sides blocked and, when given, a residual (input #3) added to its result,
    /// followed by `residual`. It shares the weight cache: its primitive reads the plain plan's weight layout unless
    /// oneDNN chose another (then a process alternating between hooked and unhooked runs reorders the weights again
    /// at each switch, as every call did before caching).
    func blocked(_ layout: ConvolutionLayout, residual: Activation? = nil) -> ConvOperator {
        var copy = self
        copy.layout = layout
        copy.residual = residual
        return copy
    }

    /// Whether oneDNN has kernels for this form (creating its primitives, which its runs then use).
    var isRunnable: Bool {
        layout.isPlain || Conv2D.runsBlocked(shape, activation: activation, layout: layout, residual: residual)
    }

    /// The residual, whose buffer a fused residual sum writes the result into.
    public var inPlaceInput: Int? { residual == nil ? nil : 3 }

    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] {
        guard residual != nil, var sum = Tensor.takeFloats(&inputs[3]) else { return try run(inputs) }
        return try summed(inputs, into: &sum)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        if residual != nil {
            // A shared residual: the sum goes into a copy.
            guard var sum = inputs[3]?.floats else { throw GraphError.invalidInput(node: "?", opType: "Conv", reason: "the residual is missing") }
            return try summed(inputs, into: &sum)
        }
        let shape = self.shape
        let x = try convPoolFloats(inputs, 0), w = try convPoolFloats(inputs, 1)
        if shape.outputCount == 0 || x.isEmpty || w.isEmpty {
            // Degenerate sizes: nothing to accumulate, the result is the bias (or zero).
            let b = hasBias ? try convPoolFloats(inputs, 2) : nil
            let plane = shape.window.height.output * shape.window.width.output
            var out = [Float](repeating: 0, count: shape.outputCount)
            if let b, plane > 0 { for i in 0..<out.count { out[i] = b[(i / plane) % shape.outChannels] } }
            out.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: $0.count) }
            return [Tensor(shape: outputTypes[0].shape, floats: out)]
        }
        var out: [Float] = []
        try convolve(inputs) { write in
            out = [Float](unsafeUninitializedCapacity: shape.outputCount) { buf, count in
                write(buf.baseAddress!)
                count = shape.outputCount
            }
        }
        return [Tensor(shape: outputTypes[0].shape, floats: out)]
    }

    /// The fused residual sum, computed in `sum` (the residual's values).
    private func summed(_ inputs: [Tensor?], into sum: inout [Float]) throws -> [Tensor] {
        try convolve(inputs) { out in sum.withUnsafeMutableBufferPointer { out($0.baseAddress!) } }
        return [Tensor(shape: outputTypes[0].shape, floats: sum)]
    }

    /// Runs the convolution (sizes not degenerate) into the buffer `output` hands it: a fresh one, or a residual's
    /// (then `residual(activation(conv + bias) + residual)`).
    private func convolve(_ inputs: [Tensor?], output: ((UnsafeMutablePointer<Float>) -> Void) -> Void) throws {
        let x = try convPoolFloats(inputs, 0), w = try convPoolFloats(inputs, 1)
        let b = hasBias ? try convPoolFloats(inputs, 2) : nil
        let (shape, activation, layout, residual, cache) = (shape, activation, layout, residual, weightCache)
        x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                (b ?? []).withUnsafeBufferPointer { bp in
                    output { out in
                        Conv2D.forward(shape, input: xp.baseAddress!, weights: wp.baseAddress!, bias: b == nil ? nil : bp.baseAddress!,
                                       output: out, activation: activation, cachedWeights: (w, cache), layout: layout, residual: residual)
                    }
                }
            }
        }
    }
}
