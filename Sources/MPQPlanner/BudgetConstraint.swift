import Foundation

/// A budget written on the command line: `4.5bits`, `2MB`, `800KB`, `1.5MiB`, `3.5ms`, `60%bops`, `72GBOPs`.
///
/// Units (case-insensitive, optional space between number and unit):
/// - `bits` / `bit` / `bpw`: parameter-weighted average weight bits.
/// - `B`, `KB`, `MB`, `GB` (10^3, 10^6, 10^9 bytes) and `KiB`, `MiB`, `GiB` (2^10, 2^20, 2^30 bytes): weight size
///   including scales and zero points. `kb`/`mb` mean kilo-/megabytes, never bits.
/// - `ms`, `us` (or `µs`), `s`: latency from the profile's latency model.
/// - `%bops`: BOPs as a percentage of the reference model (uniform W8A8 when the profile has it, otherwise
///   the most expensive uniform candidate; see `CostModel.referenceBOPs`).
/// - `bops`, `kbops`, `mbops`, `gbops`, `tbops`: absolute BOPs.
public struct BudgetConstraint: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Target: Sendable, Equatable, Hashable {
        case averageWeightBits(Double)
        case weightBytes(Double)
        case latencyMilliseconds(Double)
        case bops(Double)
        case relativeBOPs(percent: Double)
    }

    /// The text as written (for messages).
    public var text: String
    public var target: Target

    public init(text: String, target: Target) {
        self.text = text
        self.target = target
    }

    /// A budget of `value` in `kind`'s units (average bits, bytes, milliseconds, BOPs).
    public init(kind: CostKind, limit: Double) {
        switch kind {
        case .averageWeightBits: self.init(text: String(format: "%gbits", limit), target: .averageWeightBits(limit))
        case .weightBytes: self.init(text: String(format: "%.0fB", limit), target: .weightBytes(limit))
        case .latency: self.init(text: String(format: "%gms", limit), target: .latencyMilliseconds(limit))
        case .bops: self.init(text: String(format: "%gbops", limit), target: .bops(limit))
        }
    }

    public var description: String { text }

    /// The cost dimension this budget limits.
    public var kind: CostKind {
        switch target {
        case .averageWeightBits: return .averageWeightBits
        case .weightBytes: return .weightBytes
        case .latencyMilliseconds: return .latency
        case .bops, .relativeBOPs: return .bops
        }
    }

    /// The limit in the kind's units (average bits, bytes, ms, absolute BOPs), given the cost model
    /// (which fixes the `%bops` reference). Throws when the model cannot evaluate this kind.
    public func limit(in model: CostModel) throws -> Double {
        guard model.supports(kind) else {
            throw PlanningError.budgetUnavailable(budget: text, reason: "hardware profile '\(model.profile.name)' has no latency model; add a \"latency\" section (roofline or table) or use a bits, size or BOPs budget")
        }
        switch target {
        case .averageWeightBits(let v), .weightBytes(let v), .latencyMilliseconds(let v), .bops(let v):
            return v
        case .relativeBOPs(let percent):
            guard model.referenceBOPs > 0 else {
                throw PlanningError.budgetUnavailable(budget: text, reason: "the model's layers have no MACs, so relative BOPs are undefined; use a bits or size budget")
            }
            return model.referenceBOPs * percent / 100
        }
    }

    static let examples = "valid budgets look like 4.5bits (average weight bits), 2MB, 800KB or 1.5MiB (weight size; MB = 10^6 bytes, MiB = 2^20), 3.5ms (latency), 60%bops (BOPs relative to the reference) or 72GBOPs (absolute BOPs)"

    private static let units: [(suffix: String, scale: Double, make: (Double) -> Target)] = [
        ("%bops", 1, { .relativeBOPs(percent: $0) }),
        ("bits", 1, { .averageWeightBits($0) }), ("bit", 1, { .averageWeightBits($0) }), ("bpw", 1, { .averageWeightBits($0) }),
        ("kib", 1024, { .weightBytes($0) }), ("mib", 1_048_576, { .weightBytes($0) }), ("gib", 1_073_741_824, { .weightBytes($0) }),
        ("tbops", 1e12, { .bops($0) }), ("gbops", 1e9, { .bops($0) }), ("mbops", 1e6, { .bops($0) }), ("kbops", 1e3, { .bops($0) }),
        ("bops", 1, { .bops($0) }),
        ("kb", 1e3, { .weightBytes($0) }), ("mb", 1e6, { .weightBytes($0) }), ("gb", 1e9, { .weightBytes($0) }), ("b", 1, { .weightBytes($0) }),
        ("ms", 1, { .latencyMilliseconds($0) }), ("us", 1e-3, { .latencyMilliseconds($0) }), ("µs", 1e-3, { .latencyMilliseconds($0) }),
        ("s", 1000, { .latencyMilliseconds($0) }),
    ]

    /// Parses one budget. Throws `BudgetParseError` with examples of valid syntax.
    public static func parse(_ text: String) throws -> BudgetConstraint {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw BudgetParseError(text: text, problem: "the budget is empty") }
        // The leading number: digits and at most one '.', then an optional exponent.
        let chars = Array(trimmed)
        var i = 0
        while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." { i += 1 }
        if i < chars.count, chars[i] == "e" || chars[i] == "E" {
            var j = i + 1
            if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
            if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                i = j
            }
        }
        let numberText = String(chars[..<i])
        guard !numberText.isEmpty else {
            let problem = trimmed.hasPrefix("-") ? "budgets must be positive" : "it does not start with a number"
            throw BudgetParseError(text: text, problem: problem)
        }
        guard let value = Double(numberText), value.isFinite else {
            throw BudgetParseError(text: text, problem: "'\(numberText)' is not a number")
        }
        let unit = String(chars[i...]).trimmingCharacters(in: .whitespaces).lowercased()
        guard !unit.isEmpty else { throw BudgetParseError(text: text, problem: "the unit is missing") }
        guard let match = units.first(where: { $0.suffix == unit }) else {
            let hint = unit == "%" ? " (write %bops for a BOPs percentage)" : ""
            throw BudgetParseError(text: text, problem: "unknown unit '\(unit)'\(hint)")
        }
        guard value > 0 else { throw BudgetParseError(text: text, problem: "budgets must be above 0") }
        return BudgetConstraint(text: trimmed, target: match.make(value * match.scale))
    }

    /// Parses several budgets, separated by commas or given as separate strings.
    public static func parseList(_ texts: [String]) throws -> [BudgetConstraint] {
        // Empty items (`--budget ""`, `"4bits,"`) are errors, not silently dropped: a plan without the budget
        // the user meant would look like a success.
        let items = texts.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard !items.isEmpty else { throw BudgetParseError(text: "", problem: "no budget given") }
        return try items.map { try parse(String($0)) }
    }
}

/// A budget string that could not be read.
public struct BudgetParseError: Error, CustomStringConvertible, Equatable, Sendable {
    public var text: String
    public var problem: String

    public var description: String {
        "cannot read budget '\(text)': \(problem); \(BudgetConstraint.examples)."
    }
}
