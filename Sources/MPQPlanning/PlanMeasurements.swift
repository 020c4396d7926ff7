import Foundation
import MPQSensitivity

/// Every plan measured for one plan run, in memory and in the store beside the sensitivity table, so that each
/// distinct plan is measured once: in this run (budget values share proposals) and in later runs on the same inputs.
public struct PlanMeasurements {
    /// What measures the plans not measured before.
    public var measurer: any PlanMeasurer
    private var known: [[Int]: MeasuredPlan] = [:]
    private var store: MeasuredPlanStore
    private let storeURL: URL?

    /// Measurements through `measurer`, reusing and extending the store at `storeURL` (nil: in memory only).
    public init(measurer: any PlanMeasurer, storeURL: URL?, key: String) {
        self.measurer = measurer
        self.storeURL = storeURL
        store = storeURL.map { MeasuredPlanStore.load(from: $0, key: key) } ?? MeasuredPlanStore(key: key)
    }

    /// Where plans measured on the same inputs are stored, and their key: the sensitivity table's key, the
    /// validation data and the measurer's tag.
    public static func store(in directory: URL, tableKey: String, validation: LabelledData?,
                             measurerTag: String = "") -> (url: URL, key: String) {
        var hash = ContentHash()
        hash.combine(tableKey)
        if !measurerTag.isEmpty { hash.combine("measurer=\(measurerTag)") }
        if let validation {
            for name in validation.inputs.keys.sorted() { hash.combine(validation.inputs[name]!.asFloats) }
            if let labels = validation.labels { hash.combine(labels) }
        }
        hash.combine("measured-plans;v1")
        return (directory.appendingPathComponent("measured-\(hash.hex).json"), hash.hex)
    }

    /// Whether `assignment` was measured (in this run or a stored one).
    public func contains(_ assignment: [Int]) -> Bool { known[assignment] != nil || store[assignment] != nil }

    /// The loss and validation metrics of `assignment` if it was measured, without steps.
    public subscript(assignment: [Int]) -> MeasuredPlan? {
        known[assignment] ?? store[assignment].map { MeasuredPlan(loss: $0.loss, validation: $0.validation) }
    }

    /// The measurement of `assignment`: known ones without steps, new ones (stored at once) with the measurer's.
    public mutating func measure(_ assignment: [Int]) throws -> MeasuredPlan {
        if let m = self[assignment] {
            known[assignment] = m
            return m
        }
        var m = try measurer.measure(assignment)
        let steps = m.steps
        m.steps = nil
        known[assignment] = m
        store[assignment] = .init(loss: m.loss, validation: m.validation)
        if let storeURL { try store.save(to: storeURL) }
        m.steps = steps
        return m
    }
}
