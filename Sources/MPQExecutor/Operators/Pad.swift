import MPQGraph

/// Pad in `constant`, `reflect`, `edge` or `wrap` (opset 19) mode. Pads come from the `pads` attribute before
/// opset 11 and from the constant input #1 after, with an optional constant_value input #2 and,
/// from opset 18, an optional constant axes input #3. Negative pads crop.
public struct PadOperator: Operator {
    enum Mode: String, Sendable { case constant, reflect, edge, wrap }

    public let outputTypes: [TensorType]
    let inputType: TensorType
    let mode: Mode
    /// For each axis, the source index of each output index (-1: the constant value).
    let maps: [[Int]]
    /// Padding value known at load time (as float; converted to the element type).
    let constantValue: Float?
    let valueInput: Int?
    let label: OperatorLabel

    public init(_ context: OperatorContext) throws {
        let x = try context.inputType(0)
        let rank = x.shape.count
        let modeName = try context.node.string("mode", default: "constant")
        guard let mode = Mode(rawValue: modeName) else {
            throw context.invalid("attribute mode '\(modeName)' is not supported; use constant, reflect, edge or wrap")
        }
        self.mode = mode
        let pads: [Int]
        var axes = Array(0..<rank)
        if context.opset < 11 {
            guard let p = try context.node.ints("pads") else {
                throw context.invalid("needs the pads attribute (2 × rank integers: all begins, then all ends)")
            }
            pads = p
            constantValue = try context.node.float("value", default: 0)
            valueInput = nil
        } else {
            pads = try context.constantInts(1, what: "pads")
            if context.hasInput(2) {
                let t = try context.inputType(2)
                guard t.count == 1 else {
                    throw context.invalid("constant_value (input #2) must be a scalar, found shape \(TensorLayout.describe(t.shape))")
                }
                if 2 < context.constants.count, let c = context.constants[2] {
                    constantValue = c.asFloats.first ?? 0
                    valueInput = nil
                } else {
                    constantValue = nil
                    valueInput = 2
                }
            } else {
                constantValue = 0
                valueInput = nil
            }
            if context.hasInput(3) {
                axes = try context.normalizedAxes(try context.constantInts(3, what: "axes"), rank: rank)
            }
        }
        guard pads.count == 2 * axes.count else {
            throw context.invalid("pads \(TensorLayout.describe(pads)) has \(pads.count) values but needs \(2 * axes.count) (begins then ends for each of the \(axes.count) padded axes)")
        }
        var begins = [Int](repeating: 0, count: rank)
        var ends = [Int](repeating: 0, count: rank)
        for (k, a) in axes.enumerated() {
            begins[a] = pads[k]
            ends[a] = pads[k + axes.count]
        }
        var outShape: [Int] = []
        var maps: [[Int]] = []
        for a in 0..<rank {
            let d = x.shape[a], b = begins[a], e = ends[a]
            let o = d + b + e
            guard o >= 0 else {
                throw context.invalid("pads crop axis \(a) of size \(d) by \(-min(b, 0) - min(e, 0)), more than its size; reduce the negative pads")
            }
            if o > 0, d == 0, b > 0 || e > 0, mode != .constant {
                throw context.invalid("\(mode.rawValue) padding of axis \(a) needs a non-empty input dimension, found size 0")
            }
            if mode == .reflect, max(b, e) > d - 1, b > 0 || e > 0 {
                throw context.invalid("reflect padding of axis \(a) by \(max(b, e)) needs the dimension (size \(d)) to be larger than the pad; use at most \(max(d - 1, 0)) or mode edge")
            }
            var map = [Int](repeating: -1, count: o)
            for j in 0..<o {
                let i = j - b
                if i >= 0 && i < d {
                    map[j] = i
                } else {
                    switch mode {
                    case .constant: map[j] = -1
                    case .edge: map[j] = min(max(i, 0), d - 1)
                    case .reflect: map[j] = i < 0 ? -i : 2 * (d - 1) - i
                    case .wrap: map[j] = ((i % d) + d) % d
                    }
                }
            }
            outShape.append(o)
            maps.append(map)
        }
        self.maps = maps
        inputType = x
        outputTypes = [TensorType(x.elementType, outShape)]
        label = OperatorLabel(context)
    }

    public func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try label.input(inputs, 0, expecting: inputType)
        var value = constantValue ?? 0
        if constantValue == nil, let valueInput {
            let t = try label.input(inputs, valueInput)
            guard t.count == 1, let v = t.asFloats.first else { throw label.error("constant_value must be a scalar") }
            value = v
        }
        let shape = outputTypes[0].shape
        switch x.storage {
        case .float(let v): return [Tensor(shape: shape, floats: pad(v, x.shape, value))]
        case .int64(let v): return [Tensor(shape: shape, int64s: pad(v, x.shape, CastOperator.truncate(value)))]
        case .bool(let v): return [Tensor(shape: shape, bools: pad(v, x.shape, value != 0))]
        }
    }

    private func pad<T>(_ v: [T], _ inShape: [Int], _ value: T) -> [T] {
        let outShape = outputTypes[0].shape
        let total = TensorLayout.product(outShape)
        if total == 0 { return [] }
        let rank = outShape.count
        if rank == 0 { return v }
        let strides = TensorLayout.strides(inShape)
        let last = maps[rank - 1]
        let rowLength = outShape[rank - 1]
        let rows = total / rowLength
        var out = [T](repeating: value, count: total)
        v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                var index = [Int](repeating: 0, count: rank - 1)
                for r in 0..<rows {
                    // Source offset of this row, or -1 when it lies in constant padding.
                    var offset = 0
                    for k in 0..<(rank - 1) {
                        let m = maps[k][index[k]]
                        if m < 0 { offset = -1; break }
                        offset += m * strides[k]
                    }
                    if offset >= 0 {
                        let row = d + r &* rowLength, srow = s + offset
                        for j in 0..<rowLength {
                            let m = last[j]
                            if m >= 0 { row[j] = srow[m] }
                        }
                    }
                    var k = rank - 2
                    while k >= 0 {
                        index[k] += 1
                        if index[k] < outShape[k] { break }
                        index[k] = 0
                        k -= 1
                    }
                }
            }
        }
        return out
    }
}
