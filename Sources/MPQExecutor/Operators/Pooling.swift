import MPQGraph
import MPQKernels

/// Validates a 1-D or 2-D pooling input and its `kernel_shape`, and resolves the window.
private func poolOperatorWindow(_ context: OperatorContext, allowDilations: Bool) throws -> (TensorType, ConvPoolWindow, [Int]) {
    let x = try convPoolFloatType(context, 0, "X")
    guard x.shape.count == 3 || x.shape.count == 4 else {
        throw context.invalid("input X has shape \(x.shape); only 1-D and 2-D pooling (rank 3 or 4, [N, C, (H,) W]) is supported")
    }
    let spatial = Array(x.shape[2...])
    guard let kernel = try context.node.ints("kernel_shape") else {
        throw context.invalid("attribute 'kernel_shape' is required (one size per spatial axis, e.g. [3, 3])")
    }
    guard kernel.count == spatial.count, kernel.allSatisfy({ $0 >= 1 }) else {
        throw context.invalid("attribute 'kernel_shape' \(kernel) must have \(spatial.count) positive value(s), one per spatial axis of X \(x.shape)")
    }
    let sw = try ConvPoolWindow(context, spatial: spatial, kernel: kernel, allowDilations: allowDilations, allowCeilMode: true)
    let outShape = Array(x.shape[0..<2]) + sw.outputSpatial(rank: spatial.count)
    return (x, sw, outShape)
}

/// Runs a pooling kernel over a float input into a new output tensor.
private func runPoolKernel(_ inputs: [Tensor?], outShape: [Int], planes: Int,
                  _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) throws -> [Tensor] {
    let x = try convPoolFloats(inputs, 0)
    let count = Tensor.count(of: outShape)
    guard count > 0, !x.isEmpty else { return [Tensor(shape: outShape, floats: [Float](repeating: 0, count: count))] }
    let out = [Float](unsafeUninitializedCapacity: count) { buf, n in
        x.withUnsafeBufferPointer { kernel($0.baseAddress!, buf.baseAddress!) }
        n = count
    }
    return [Tensor(shape: outShape, floats: out)]
}

/// ONNX MaxPool (1-D/2-D): `kernel_shape`, `strides`, `pads`, `dilations`, `ceil_mode`, `auto_pad`.
/// Only the first output (values) is produced; requesting `Indices` is an error.
public struct MaxPoolOperator: Operator {
    public let outputTypes: [TensorType]
    let window: Window2D
    let planes: Int
    /// Whether input and output are in `ChannelBlocks`' blocked layout (a channel-blocked forward pass).
    private(set) var blocked = false

    public init(_ context: OperatorContext) throws {
        if context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty {
            throw context.invalid("the Indices output ('\(context.node.outputs[1])') is not supported; only MaxPool's first output can be computed")
        }
        let (x, sw, outShape) = try poolOperatorWindow(context, allowDilations: true)
        window = sw.window
        planes = x.shape[0] * x.shape[1]
        outputTypes = [TensorType(.float32, outShape)]
    }

    /// This pooling reading and writing the blocked layout (its channels must be whole blocks).
    func blockedForm() -> MaxPoolOperator {
        var copy = self
        copy.blocked = true
        return copy
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        try runPoolKernel(inputs, outShape: outputTypes[0].shape, planes: planes) { x, y in
            if blocked {
                Pool2D.maxBlocked(window, blocks: planes / ChannelBlocks.size, input: x, output: y)
            } else {
                Pool2D.max(window, planes: planes, input: x, output: y)
            }
        }
    }
}

/// ONNX AveragePool (1-D/2-D): `kernel_shape`, `strides`, `pads`, `dilations` (opset 19+),
/// `ceil_mode`, `count_include_pad`, `auto_pad`.
public struct AveragePoolOperator: Operator {
    public let outputTypes: [TensorType]
    let window: Window2D
    let planes: Int
    let countIncludePad: Bool

    public init(_ context: OperatorContext) throws {
        let (x, sw, outShape) = try poolOperatorWindow(context, allowDilations: context.opset >= 19)
        let cip = try context.node.int("count_include_pad", default: 0)
        guard cip == 0 || cip == 1 else {
            throw context.invalid("attribute 'count_include_pad' is \(cip); expected 0 or 1")
        }
        countIncludePad = cip == 1
        window = sw.window
        planes = x.shape[0] * x.shape[1]
        outputTypes = [TensorType(.float32, outShape)]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        try runPoolKernel(inputs, outShape: outputTypes[0].shape, planes: planes) { x, y in
            Pool2D.average(window, planes: planes, countIncludePad: countIncludePad, input: x, output: y)
        }
    }
}

/// ONNX GlobalAveragePool: mean over all spatial axes of `[N, C, d1, …]`, giving `[N, C, 1, …]`.
public struct GlobalAveragePoolOperator: Operator {
    public let outputTypes: [TensorType]
    let planes: Int, size: Int

    public init(_ context: OperatorContext) throws {
        let x = try convPoolFloatType(context, 0, "X")
        guard x.shape.count >= 3 else {
            throw context.invalid("input X has shape \(x.shape); GlobalAveragePool needs [N, C, spatial...] (rank ≥ 3)")
        }
        planes = x.shape[0] * x.shape[1]
        size = x.shape[2...].reduce(1, *)
        outputTypes = [TensorType(.float32, Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.shape.count - 2))]
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let (planes, size) = (self.planes, self.size)
        if size == 0 {
            return [Tensor(shape: outputTypes[0].shape, floats: [Float](repeating: .nan, count: planes))]
        }
        return try runPoolKernel(inputs, outShape: outputTypes[0].shape, planes: planes) { x, y in
            Pool2D.globalAverage(planes: planes, size: size, input: x, output: y)
        }
    }
}
