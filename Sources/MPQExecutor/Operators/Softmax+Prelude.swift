import MPQGraph
import MPQKernels

/// The scale and mask a Softmax absorbed from its input (`GraphOptimizer.fuseSoftmaxInputs`):
/// `x · s` or `x / s`, then `+ mask`, with the same float operations as the stand-alone Mul/Div and Add.
struct SoftmaxPrelude: Sendable {
    let scale: Float?
    let dividesByScale: Bool
    /// The scores' type (input 0).
    let inputType: TensorType
    /// The mask's type (input 1), when there is a mask.
    let maskType: TensorType?
    /// The scaled and masked scores' type: the scores and the mask broadcast together.
    let outputType: TensorType
    let plan: Broadcasting.BinaryPlan?
    /// For row-wise application: each row's first mask element and the mask's step along a row; nil when the rows
    /// are not the last axis of unbroadcast scores (the whole tensor is then scaled and masked first).
    private(set) var rowOffsets: [Int]?
    private(set) var maskStep = 0

    /// The prelude of a fused Softmax node, nil for a plain one.
    init?(_ context: OperatorContext, input: TensorType) throws {
        let node = context.node
        let hasMask = node.inputs.count > 1 && !node.inputs[1].isEmpty
        let scaleAttribute = node.attributes[GraphOptimizer.softmaxScaleKey]
        guard hasMask || scaleAttribute != nil else { return nil }
        guard node.opType == "Softmax" else { throw context.invalid("only Softmax takes a fused scale or mask") }
        switch scaleAttribute {
        case nil: scale = nil
        case .float(let s)?: scale = s
        default: throw context.invalid("attribute '\(GraphOptimizer.softmaxScaleKey)' must be a float")
        }
        switch node.attributes[GraphOptimizer.softmaxScaleOpKey] {
        case .string("Div")?: dividesByScale = true
        case .string("Mul")?, nil: dividesByScale = false
        default: throw context.invalid("attribute '\(GraphOptimizer.softmaxScaleOpKey)' must be \"Mul\" or \"Div\"")
        }
        inputType = input
        if hasMask {
            let mask = try context.inputType(1)
            guard mask.elementType == .float32 else { throw context.invalid("the mask (input #1) must be float32, found \(mask)") }
            guard let shape = Broadcasting.shape(input.shape, mask.shape) else {
                throw context.invalid("the scores \(TensorLayout.describe(input.shape)) and the mask \(TensorLayout.describe(mask.shape)) do not broadcast")
            }
            maskType = mask
            outputType = TensorType(.float32, shape)
            plan = Broadcasting.BinaryPlan(a: input.shape, b: mask.shape, out: shape)
        } else {
            maskType = nil
            outputType = input
            plan = nil
        }
    }

    /// Enables row-wise application for rows of `n` elements along the last axis.
    mutating func prepareRows(_ n: Int) {
        guard inputType.shape == outputType.shape, let last = inputType.shape.last, last == n, n > 0 else { return }
        let rows = inputType.count / n
        guard let maskType else { rowOffsets = []; return }
        let strides = Broadcasting.strides(of: maskType.shape, broadcastTo: outputType.shape)
        maskStep = strides[strides.count - 1]
        let dims = Array(outputType.shape.dropLast())
        var offsets = [Int](repeating: 0, count: rows)
        var index = [Int](repeating: 0, count: dims.count)
        var offset = 0
        for r in 0..<rows {
            offsets[r] = offset
            var k = dims.count - 1
            while k >= 0 {
                index[k] += 1
                offset += strides[k]
                if index[k] < dims[k] { break }
                offset -= strides[k] * dims[k]
                index[k] = 0
                k -= 1
            }
        }
        rowOffsets = offsets
    }

    /// The mask's floats (nil without a mask).
    func mask(_ inputs: [Tensor?], _ label: OperatorLabel) throws -> [Float]? {
        guard let maskType else { return nil }
        guard let v = try label.input(inputs, 1, expecting: maskType).floats else { throw label.error("the mask must be float32") }
        return v
    }

    /// `dst = src · s` (or `/ s`) over `count` elements; a copy without a scale.
    func scale(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        guard var s = scale else {
            if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
            return
        }
        (dividesByScale ? ElementwiseBinary.div : .mul).run(src, aStep: 1, &s, bStep: 0, dst, count: count)
    }

    /// Softmax of rows `rows` of `n` elements after their scale and mask (`prepareRows` done); `src` may equal `dst`.
    func softmaxRows(_ rows: Range<Int>, n: Int, _ src: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?,
                     _ dst: UnsafeMutablePointer<Float>) {
        guard let rowOffsets else { return }
        for r in rows {
            VectorMath.softmaxRow(src + r &* n, dst + r &* n, count: n, scale: scale, dividesByScale: dividesByScale,
                                  mask: mask.map { $0 + rowOffsets[r] }, maskStep: maskStep)
        }
    }

    /// The scaled and masked scores as a tensor of `outputType` (the general path).
    func apply(_ x: Tensor, mask: [Float]?) throws -> Tensor {
        guard let v = x.floats else { throw GraphError.invalidInput(node: "Softmax", opType: "Softmax", reason: "input must be float32") }
        guard !v.isEmpty else { return Tensor(shape: outputType.shape, floats: []) }
        var scaled = v
        scaled.withUnsafeMutableBufferPointer { b in scale(b.baseAddress!, b.baseAddress!, count: b.count) }
        guard let plan, let mask else { return Tensor(shape: x.shape, floats: scaled) }
        return Tensor(shape: outputType.shape, floats: plan.floats(.add, scaled, mask))
    }
}
