import Foundation

/// Accuracy and cross-entropy of class scores against integer labels.
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    public var accuracy: Double
    public var crossEntropy: Double

    /// `scores` is row-major [samples, classes]: logits, or probabilities when every row is
    /// non-negative and sums to 1 (then the log is taken directly).
    public init(scores: [Float], classes: Int, labels: [Int]) {
        var correct = 0
        var loss = 0.0
        let isProbability = Self.looksLikeProbabilities(scores, classes: classes)
        for (i, label) in labels.enumerated() {
            let row = scores[(i * classes)..<((i + 1) * classes)]
            let best = row.indices.max { row[$0] < row[$1] }! - i * classes
            if best == label { correct += 1 }
            if isProbability {
                loss -= Foundation.log(max(Double(row[row.startIndex + label]), 1e-12))
            } else {
                let m = Double(row.max()!)
                let sum = row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
                loss -= Double(row[row.startIndex + label]) - m - Foundation.log(sum)
            }
        }
        accuracy = Double(correct) / Double(labels.count)
        crossEntropy = loss / Double(labels.count)
    }

    /// Whether every row of `scores` is non-negative and sums to 1.
    public static func looksLikeProbabilities(_ scores: [Float], classes: Int) -> Bool {
        guard scores.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { return false }
        return stride(from: 0, to: scores.count, by: classes).allSatisfy { start in
            abs(scores[start..<start + classes].reduce(0, +) - 1) < 1e-3
        }
    }
}
