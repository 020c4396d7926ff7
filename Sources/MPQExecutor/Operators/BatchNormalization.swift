import MPQGraph

/// BatchNormalization in inference mode: `y = scale · (x − mean) / √(var + ε) + B` per channel
/// (dimension 1), folded into one multiply-add per element.
public struct BatchNormalizationOperator: Operator {
    public let outputTypes: [TensorType]
    let epsilon: Float
    let channels: Int
    let spatial: Int
    let batch: Int
    /// Per-channel multiplier and offset when all parameters are constants.
    let folded: (a: [Float], b: [Float])?
    let inputTypes: [TensorType]
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        guard x.elementType == .float32 else { throw context.invalid("input X must be float32, found \(x)") }
        guard x.shape.count >= 2 else {
            throw context.invalid("input X must have rank ≥ 2 ([N, C, ...]), found shape \(TensorLayout.describe(x.shape))")
        }
        if try context.node.int("training_mode", default: 0) != 0 {
            throw context.invalid("training_mode=1 is not supported; export the model in inference (eval) mode")
        }
        if context.node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw context.invalid("only the Y output is supported (running mean/var outputs need training mode); export in inference mode")
        }
        let c = x.shape[1]
        var types: [TensorType] = [x]
        for (i, name) in ["scale", "B", "input_mean", "input_var"].enumerated() {
            let t = try context.inputType(i + 1)
            guard t.elementType == .float32, t.shape == [c] else {
                throw context.invalid("\(name) (input #\(i + 1)) must be float32 of shape [\(c)] (the channel count), found \(t)")
            }
            types.append(t)
        }
        inputTypes = types
        epsilon = try context.node.float("epsilon", default: 1e-5)
        channels = c
        batch = x.shape[0]
        spatial = TensorLayout.product(x.shape.dropFirst(2))
        let consts = (1...4).map { $0 < context.constants.count ? context.constants[$0] : nil }
        if consts.allSatisfy({ $0 != nil }) {
            let p = consts.map { $0!.asFloats }
            folded = BatchNormalizationOperator.fold(p[0], p[1], p[2], p[3], epsilon)
        } else {
            folded = nil
        }
        outputTypes = [x]
        label = OperatorLabel(context)
    }

    static func fold(_ scale: [Float], _ bias: [Float], _ mean: [Float], _ variance: [Float], _ eps: Float) -> (a: [Float], b: [Float]) {
        var a = [Float](repeating: 0, count: scale.count)
        var b = a
        for i in 0..<scale.count {
            a[i] = scale[i] / (variance[i] + eps).squareRoot()
            b[i] = bias[i] - mean[i] * a[i]
        }
        return (a, b)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputTypes[0])
        let (a, b): ([Float], [Float])
        if let folded {
            (a, b) = folded
        } else {
            let p = try (1...4).map { try label.input(inputs, $0, expecting: inputTypes[$0]).asFloats }
            (a, b) = BatchNormalizationOperator.fold(p[0], p[1], p[2], p[3], epsilon)
        }
        guard let v = x.floats else { throw label.error("input X must be float32") }
        let total = v.count
        if total == 0 { return [x] }
        let out = [Float](unsafeUninitializedCapacity: total) { buf, count in
            v.withUnsafeBufferPointer { src in
                a.withUnsafeBufferPointer { ab in
                    b.withUnsafeBufferPointer { bb in
                        let s = src.baseAddress!, d = buf.baseAddress!
                        var off = 0
                        for _ in 0..<batch {
                            for ch in 0..<channels {
                                let m = ab[ch], c = bb[ch]
                                let sp = s + off, dp = d + off
                                for j in 0..<spatial { dp[j] = sp[j] * m + c }
                                off = off &+ spatial
                            }
                        }
                    }
                }
            }
            count = total
        }
        return [Tensor(shape: x.shape, floats: out)]
    }
}
