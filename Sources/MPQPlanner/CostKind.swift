import Foundation

/// A cost dimension a budget can limit.
public enum CostKind: String, CaseIterable, Sendable, Equatable, Hashable, Codable {
    /// Parameter-weighted average weight bits.
    case averageWeightBits = "bits"
    /// Weight storage in bytes, including scales and zero points.
    case weightBytes = "size"
    /// Bit operations: sum of MACs x weight bits x activation bits.
    case bops
    /// Estimated latency in milliseconds (from the profile's latency model).
    case latency

    /// Relative slack added to every limit so plans exactly at a budget are not lost to rounding.
    public static let relativeTolerance = 1e-9

    /// `limit` plus the relative slack: what a plan's cost is compared against.
    public static func withTolerance(_ limit: Double) -> Double {
        limit + relativeTolerance * max(1, abs(limit))
    }

    /// A value in this kind's units, for messages (`4.00 bits`, `1.234 MB (1234000 bytes)`, `3.50 ms`, `1.2e+09 BOPs`).
    public func format(_ value: Double) -> String {
        switch self {
        case .averageWeightBits:
            return String(format: "%.2f bits", value)
        case .weightBytes:
            let human: String
            if value >= 1e6 { human = String(format: "%.3f MB", value / 1e6) }
            else if value >= 1e3 { human = String(format: "%.3f KB", value / 1e3) }
            else { return String(format: "%.0f bytes", value) }
            return "\(human) (\(String(format: "%.0f", value)) bytes)"
        case .latency:
            return String(format: "%.4g ms", value)
        case .bops:
            if value >= 1e9 { return String(format: "%.4g GBOPs", value / 1e9) }
            if value >= 1e6 { return String(format: "%.4g MBOPs", value / 1e6) }
            return String(format: "%.4g BOPs", value)
        }
    }

    /// How a cheapest plan is described in messages ("the cheapest plan averages 4.00 bits").
    var cheapestPhrase: String {
        switch self {
        case .averageWeightBits: return "averages"
        case .weightBytes: return "weighs"
        case .latency: return "takes"
        case .bops: return "needs"
        }
    }
}
