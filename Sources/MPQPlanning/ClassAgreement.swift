/// How often a quantized classifier ranks the FP32 model's top class first, and among its top five.
///
/// For label-free validation of a classifier (the KL loss): agreement with FP32 is the accuracy it would
/// have if the FP32 predictions were the labels.
public struct ClassAgreement: Codable, Sendable, Equatable {
    /// Fraction of samples whose quantized top-1 class is the FP32 top-1 class.
    public var top1: Double
    /// Fraction of samples whose FP32 top-1 class is among the quantized top-5 (nil with fewer than 5 classes).
    public var top5: Double?

    /// Compares row-major [samples, classes] scores; nil when the shapes differ or there are no samples.
    public init?(reference: [Float], quantized: [Float], classes: Int) {
        guard classes > 1, reference.count == quantized.count, reference.count >= classes,
              reference.count % classes == 0 else { return nil }
        let samples = reference.count / classes
        var first = 0
        var inTopFive = 0
        for i in 0..<samples {
            let row = i * classes..<(i + 1) * classes
            let expected = Self.argmax(reference[row])
            let score = quantized[expected]
            // The expected class's rank in the quantized row: how many classes score above it (ties count by index).
            let above = quantized[row].indices.filter { quantized[$0] > score || (quantized[$0] == score && $0 < expected) }.count
            if above == 0 { first += 1 }
            if above < 5 { inTopFive += 1 }
        }
        top1 = Double(first) / Double(samples)
        top5 = classes >= 5 ? Double(inTopFive) / Double(samples) : nil
    }

    private static func argmax(_ row: ArraySlice<Float>) -> Int {
        row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
    }
}
