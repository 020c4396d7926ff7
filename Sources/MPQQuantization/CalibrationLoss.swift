import Foundation
import MPQGraph

/// Losses over model outputs [N, C] used to judge a quantized model on calibration data.
///
/// Default rule (`defaultLoss(labelsAvailable:)`): cross-entropy when labels exist (what LAPQ
/// optimises); otherwise KL(p_fp32 ‖ p_q) against the FP32 model's own softmax, which is the
/// label-free analogue of cross-entropy (cross-entropy against soft FP32 targets minus their
/// constant entropy), is scale-aware in probability space, and does not penalise logit shifts
/// that leave the prediction distribution unchanged, unlike MSE.
///
/// All reductions are in Double; softmax terms use log-sum-exp for stability.
public enum CalibrationLoss: String, Sendable, Hashable, Codable, CaseIterable {
    /// Mean cross-entropy of the quantized logits with integer labels.
    case crossEntropy
    /// Mean KL(softmax(reference) ‖ softmax(quantized)).
    case klDivergence
    /// Mean squared error between quantized and reference outputs.
    case meanSquaredError
    /// Mean over rows of 1 − cos(reference row, quantized row).
    case cosineDistance
    /// −SQNR in dB (so lower is better), SQNR = 10·log10(Σs² / Σ(s−q)²).
    case negativeSQNR

    /// A short name for reports and command-line options.
    public var name: String {
        switch self {
        case .crossEntropy: return "cross-entropy"
        case .klDivergence: return "kl"
        case .meanSquaredError: return "mse"
        case .cosineDistance: return "cosine"
        case .negativeSQNR: return "sqnr"
        }
    }

    /// The loss named `name` (as `name` spells it), or nil.
    public init?(name: String) {
        guard let loss = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = loss
    }

    /// Cross-entropy with labels, KL against the FP32 outputs without (see the type's documentation).
    public static func defaultLoss(labelsAvailable: Bool) -> CalibrationLoss {
        labelsAvailable ? .crossEntropy : .klDivergence
    }

    /// Whether the loss needs labels (otherwise it needs the FP32 reference outputs).
    public var needsLabels: Bool { self == .crossEntropy }

    /// SQNR values are capped at this many dB when turned into a loss (identical outputs give +∞).
    public static let sqnrCap = 300.0

    /// Evaluates the loss of `outputs` given FP32 `reference` outputs and/or `labels`.
    public func evaluate(_ outputs: Tensor, reference: Tensor? = nil, labels: [Int]? = nil) throws -> Double {
        switch self {
        case .crossEntropy:
            guard let labels else { throw QuantizationError.invalidArgument("cross-entropy needs labels") }
            return try Self.crossEntropy(logits: outputs, labels: labels)
        default:
            guard let reference else { throw QuantizationError.invalidArgument("\(name) needs the FP32 reference outputs") }
            switch self {
            case .klDivergence: return try Self.klDivergence(reference: reference, quantized: outputs)
            case .meanSquaredError: return try Self.meanSquaredError(reference: reference, quantized: outputs)
            case .cosineDistance: return try Self.cosineDistance(reference: reference, quantized: outputs)
            default: return -min(try Self.sqnr(reference: reference, quantized: outputs), Self.sqnrCap)
            }
        }
    }

    // MARK: - Individual losses

    /// Mean over rows of logsumexp(z) − z_label; logits [N, C].
    public static func crossEntropy(logits: Tensor, labels: [Int]) throws -> Double {
        let (z, rows, cols) = try matrix(logits)
        guard labels.count == rows else { throw QuantizationError.shapeMismatch("\(labels.count) labels for \(rows) rows") }
        var total = 0.0
        for r in 0..<rows {
            let label = labels[r]
            guard (0..<cols).contains(label) else { throw QuantizationError.invalidArgument("label \(label) outside 0..<\(cols)") }
            let row = z[(r * cols)..<((r + 1) * cols)]
            total += logSumExp(row) - Double(z[r * cols + label])
        }
        return total / Double(rows)
    }

    /// Mean over rows of Σ_i p_i (log p_i − log q_i), p = softmax(reference), q = softmax(quantized).
    public static func klDivergence(reference: Tensor, quantized: Tensor) throws -> Double {
        let (s, rows, cols) = try matrix(reference)
        let (q, qr, qc) = try matrix(quantized)
        guard rows == qr, cols == qc else { throw QuantizationError.shapeMismatch("\(reference.shape) vs \(quantized.shape)") }
        var total = 0.0
        for r in 0..<rows {
            let a = s[(r * cols)..<((r + 1) * cols)], b = q[(r * cols)..<((r + 1) * cols)]
            let la = logSumExp(a), lb = logSumExp(b)
            var kl = 0.0
            for (x, y) in zip(a, b) {
                let logP = Double(x) - la, logQ = Double(y) - lb
                kl += exp(logP) * (logP - logQ)
            }
            total += max(kl, 0)
        }
        return total / Double(rows)
    }

    /// Mean of (s − q)² over all elements.
    public static func meanSquaredError(reference: Tensor, quantized: Tensor) throws -> Double {
        let (s, q) = try pair(reference, quantized)
        var total = 0.0
        for (a, b) in zip(s, q) { let d = Double(a) - Double(b); total += d * d }
        return total / Double(s.count)
    }

    /// Mean over rows (first axis) of 1 − ⟨s, q⟩ / (‖s‖·‖q‖); a zero row counts as distance 1
    /// unless both rows are zero (distance 0).
    public static func cosineDistance(reference: Tensor, quantized: Tensor) throws -> Double {
        let similarities = try rowCosineSimilarities(reference: reference, quantized: quantized)
        return similarities.reduce(0) { $0 + (1 - $1) } / Double(max(similarities.count, 1))
    }

    /// The cosine similarity of each row (first axis) of `quantized` to the same row of `reference`:
    /// 1 when both rows are zero, 0 when only one is.
    public static func rowCosineSimilarities(reference: Tensor, quantized: Tensor) throws -> [Double] {
        let (s, q) = try pair(reference, quantized)
        let rows = max(reference.shape.first ?? 1, 1)
        let cols = s.count / rows
        return (0..<rows).map { r in
            var dot = 0.0, ns = 0.0, nq = 0.0
            for i in (r * cols)..<((r + 1) * cols) {
                let a = Double(s[i]), b = Double(q[i])
                dot += a * b; ns += a * a; nq += b * b
            }
            if ns == 0 && nq == 0 { return 1 }
            if ns == 0 || nq == 0 { return 0 }
            return dot / (ns.squareRoot() * nq.squareRoot())
        }
    }

    /// Output SQNR in dB: 10·log10(Σ s² / Σ (s − q)²); +∞ when the outputs are identical.
    public static func sqnr(reference: Tensor, quantized: Tensor) throws -> Double {
        let (s, q) = try pair(reference, quantized)
        var signal = 0.0, noise = 0.0
        for (a, b) in zip(s, q) {
            signal += Double(a) * Double(a)
            let d = Double(a) - Double(b); noise += d * d
        }
        if noise == 0 { return .infinity }
        return 10 * log10(signal / noise)
    }

    // MARK: - Helpers

    static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        guard let m = row.max(), m.isFinite else { return Double(row.max() ?? 0) }
        var s = 0.0
        for v in row { s += exp(Double(v) - Double(m)) }
        return Double(m) + log(s)
    }

    private static func matrix(_ t: Tensor) throws -> ([Float], Int, Int) {
        guard let v = t.floats else { throw QuantizationError.notFloat("model output") }
        guard t.rank == 2, t.shape[0] > 0, t.shape[1] > 0 else {
            throw QuantizationError.shapeMismatch("expected outputs [N, C], got \(t.shape)")
        }
        return (v, t.shape[0], t.shape[1])
    }

    private static func pair(_ a: Tensor, _ b: Tensor) throws -> ([Float], [Float]) {
        guard let s = a.floats, let q = b.floats else { throw QuantizationError.notFloat("model output") }
        guard a.shape == b.shape, !s.isEmpty else { throw QuantizationError.shapeMismatch("\(a.shape) vs \(b.shape)") }
        return (s, q)
    }
}
