import Foundation

/// Measured losses of whole plans, kept beside the sensitivity table so that later runs (other
/// budgets, a Pareto sweep after a single plan) measure each plan only once.
///
/// Keyed by the sensitivity table's key (model, calibration data, profile, settings) and the
/// validation data; each entry is one assignment (candidate index per group).
struct MeasuredPlanStore: Codable {
    struct Entry: Codable {
        var loss: Double
        var validation: ValidationMetrics?
        /// True when the plan's calibration loss was measured without its validation metrics (absent: with them).
        var unvalidated: Bool? = nil

        /// The stored form of `plan`, measured with its validation run when `validated`.
        init(_ plan: MeasuredPlan, validated: Bool) {
            (loss, validation, unvalidated) = (plan.loss, plan.validation, validated ? nil : true)
        }
    }

    var key: String
    var entries: [String: Entry] = [:]

    init(key: String) { self.key = key }

    /// The stored measurements for `key` at `url`, or an empty store (also when the file is from other inputs).
    static func load(from url: URL, key: String) -> MeasuredPlanStore {
        guard let data = try? Data(contentsOf: url),
              let stored = try? JSONDecoder().decode(MeasuredPlanStore.self, from: data), stored.key == key else {
            return MeasuredPlanStore(key: key)
        }
        return stored
    }

    subscript(assignment: [Int]) -> Entry? {
        get { entries[Self.name(assignment)] }
        set { entries[Self.name(assignment)] = newValue }
    }

    /// Writes the store atomically, so an interrupted run keeps every plan measured before it.
    func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }

    private static func name(_ assignment: [Int]) -> String { assignment.map(String.init).joined(separator: ",") }
}
