import MPQGraph

/// How a layer's weight tensor is laid out, which decides its output channels and the input
/// channel each weight multiplies.
public enum WeightLayout: Sendable, Hashable {
    /// Conv weight [Cout, Cin/groups, k...]; input activation [N, Cin, spatial...].
    case conv(groups: Int)
    /// Gemm B: [K, N] (transB false) or [N, K] (transB true); output channel = N.
    /// Input A is [M, K] (transA false) or [K, M] (transA true).
    case gemm(transA: Bool, transB: Bool)
    /// MatMul with a constant right operand [K, N]; input [..., K]; output channel = N.
    case matMul

    /// The axis of the weight tensor that indexes output channels (the per-channel axis).
    public var outputChannelAxis: Int {
        switch self {
        case .conv: return 0
        case .gemm(_, let transB): return transB ? 0 : 1
        case .matMul: return -1 // last axis; resolve with the weight's rank
        }
    }
}

/// Bias correction for quantized weights.
///
/// Deployable form (default): per output channel c, the expected output shift caused by
/// quantization is E[(Ŵ − W)·x]_c = Σ_k (Ŵ − W)_{c,k} · E[x_k], where E[x] is the per-input-channel
/// mean of the layer's FP32 input activations on calibration data (conv: mean over batch and
/// spatial positions, the same mean for every position of the kernel window). The corrected bias
/// is b_c − shift_c, and the weights stay on the grid.
///
/// Approximation: for convolutions with zero padding, border windows read zeros, so the true
/// expected window input is slightly smaller than E[x] near the borders; this is ignored.
/// Gemm's alpha and beta attributes are not applied here: the shift is for alpha = 1, and the bias
/// update must be divided by beta by the caller if beta ≠ 1.
///
/// Paper form (LAPQ / Banner et al., for reproduction): W̃_c = Ŵ_c − (mean(Ŵ_c) − mean(W_c)),
/// which moves the weights off the grid.
public enum BiasCorrection {
    /// Per-input-channel means of a layer's input activations.
    ///
    /// Conv: [N, C, spatial...] → C means over N and spatial positions. Gemm: [M, K] → K means
    /// (transA: [K, M]). MatMul: [..., K] → K means over all leading axes.
    public static func inputChannelMeans(_ activation: Tensor, layout: WeightLayout) throws -> [Float] {
        guard let x = activation.floats else { throw QuantizationError.notFloat("input activation") }
        let shape = activation.shape
        let channels: Int, inner: Int
        switch layout {
        case .conv:
            guard shape.count >= 2 else { throw QuantizationError.shapeMismatch("conv input \(shape) needs rank ≥ 2") }
            channels = shape[1]; inner = shape[2...].reduce(1, *)
        case .gemm(let transA, _):
            guard shape.count == 2 else { throw QuantizationError.shapeMismatch("Gemm input \(shape) must be rank 2") }
            if transA { channels = shape[0]; inner = shape[1] } else { channels = shape[1]; inner = 1 }
        case .matMul:
            guard let last = shape.last else { throw QuantizationError.shapeMismatch("MatMul input is a scalar") }
            channels = last; inner = 1
        }
        guard channels > 0, x.count > 0 else { return [Float](repeating: 0, count: max(channels, 0)) }
        let outer = x.count / (channels * inner)
        var sums = [Double](repeating: 0, count: channels)
        var offset = 0
        for _ in 0..<outer {
            for c in 0..<channels {
                var s = 0.0
                for i in offset..<(offset + inner) { s += Double(x[i]) }
                sums[c] += s
                offset += inner
            }
        }
        let n = Double(outer * inner)
        return sums.map { Float($0 / n) }
    }

    /// The expected output shift E[(Ŵ − W)·x]_c per output channel.
    public static func outputShift(weight: Tensor, quantized: Tensor, layout: WeightLayout,
                                   inputMeans: [Float]) throws -> [Float] {
        guard let w = weight.floats, let q = quantized.floats else { throw QuantizationError.notFloat("weights") }
        guard weight.shape == quantized.shape else {
            throw QuantizationError.shapeMismatch("weight \(weight.shape) vs quantized \(quantized.shape)")
        }
        let shape = weight.shape
        switch layout {
        case .conv(let groups):
            guard shape.count >= 2, groups >= 1, shape[0] % groups == 0 else {
                throw QuantizationError.shapeMismatch("conv weight \(shape) with \(groups) groups")
            }
            let cout = shape[0], cinPerGroup = shape[1], window = shape[2...].reduce(1, *)
            guard inputMeans.count == cinPerGroup * groups else {
                throw QuantizationError.shapeMismatch("\(inputMeans.count) input means for \(cinPerGroup * groups) input channels")
            }
            let coutPerGroup = cout / groups
            var shift = [Float](repeating: 0, count: cout)
            for c in 0..<cout {
                let g = c / coutPerGroup
                var s = 0.0
                for j in 0..<cinPerGroup {
                    let mean = Double(inputMeans[g * cinPerGroup + j])
                    let base = (c * cinPerGroup + j) * window
                    var d = 0.0
                    for k in base..<(base + window) { d += Double(q[k] - w[k]) }
                    s += d * mean
                }
                shift[c] = Float(s)
            }
            return shift
        case .gemm(_, let transB):
            guard shape.count == 2 else { throw QuantizationError.shapeMismatch("Gemm weight \(shape) must be rank 2") }
            return try matrixShift(w, q, rows: shape[0], cols: shape[1], channelsAreRows: transB, inputMeans: inputMeans)
        case .matMul:
            guard shape.count == 2 else { throw QuantizationError.shapeMismatch("MatMul weight \(shape) must be rank 2") }
            return try matrixShift(w, q, rows: shape[0], cols: shape[1], channelsAreRows: false, inputMeans: inputMeans)
        }
    }

    private static func matrixShift(_ w: [Float], _ q: [Float], rows: Int, cols: Int, channelsAreRows: Bool,
                                    inputMeans: [Float]) throws -> [Float] {
        let k = channelsAreRows ? cols : rows, n = channelsAreRows ? rows : cols
        guard inputMeans.count == k else {
            throw QuantizationError.shapeMismatch("\(inputMeans.count) input means for K = \(k)")
        }
        var shift = [Double](repeating: 0, count: n)
        for r in 0..<rows {
            for c in 0..<cols {
                let d = Double(q[r * cols + c] - w[r * cols + c])
                if channelsAreRows { shift[r] += d * Double(inputMeans[c]) } else { shift[c] += d * Double(inputMeans[r]) }
            }
        }
        return shift.map { Float($0) }
    }

    /// The corrected bias b − shift (a missing bias counts as zeros).
    public static func correctedBias(_ bias: [Float]?, shift: [Float]) throws -> [Float] {
        let b = bias ?? [Float](repeating: 0, count: shift.count)
        guard b.count == shift.count else {
            throw QuantizationError.shapeMismatch("bias has \(b.count) values, shift \(shift.count)")
        }
        return zip(b, shift).map { $0 - $1 }
    }

    /// Convenience: input means from a calibration activation, then the corrected bias.
    public static func correctedBias(_ bias: [Float]?, weight: Tensor, quantized: Tensor, layout: WeightLayout,
                                     inputActivation: Tensor) throws -> [Float] {
        let means = try inputChannelMeans(inputActivation, layout: layout)
        return try correctedBias(bias, shift: outputShift(weight: weight, quantized: quantized, layout: layout, inputMeans: means))
    }

    /// The paper's weight-domain mean shift: W̃_c = Ŵ_c − (mean(Ŵ_c) − mean(W_c)) for every output
    /// channel c. The result is off the grid (for reproduction, not export).
    public static func meanShiftCorrectedWeights(weight: Tensor, quantized: Tensor, layout: WeightLayout) throws -> Tensor {
        guard let w = weight.floats, var q = quantized.floats else { throw QuantizationError.notFloat("weights") }
        guard weight.shape == quantized.shape, weight.rank >= 1 else {
            throw QuantizationError.shapeMismatch("weight \(weight.shape) vs quantized \(quantized.shape)")
        }
        var axis = layout.outputChannelAxis
        if axis < 0 { axis += weight.rank }
        guard axis >= 0, axis < weight.rank else { throw QuantizationError.shapeMismatch("weight \(weight.shape)") }
        let shape = weight.shape
        let outer = shape[..<axis].reduce(1, *), channels = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var diff = [Double](repeating: 0, count: channels)
        func visit(_ body: (Int, Int) -> Void) {
            var offset = 0
            for _ in 0..<outer { for c in 0..<channels { for i in offset..<(offset + inner) { body(i, c) }; offset += inner } }
        }
        visit { i, c in diff[c] += Double(q[i] - w[i]) }
        let perChannel = Double(outer * inner)
        let delta = diff.map { Float($0 / perChannel) }
        visit { i, c in q[i] -= delta[c] }
        return Tensor(shape: shape, floats: q)
    }
}
