import MPQGraph

/// Every value of one run, kept so later runs can recompute only what a change affects.
///
/// Values are the tensors consumers read (after hooks). Of a hooked activation an unbounded plan keeps only that
/// form (a different hook re-runs its producer) and a checkpointed one only the raw form (the hook makes the other
/// again when it is read); weights and graph inputs keep both, and so does a value whose new hook a re-run applied
/// to a raw form it already held.
public struct ActivationCache: Sendable {
    var values: [Tensor?]
    var unhooked: [Int: Tensor]
    /// Slot names, to answer lookups by name.
    let slots: [String: Int]
    /// The name of each slot.
    let names: [String]
    /// Slots whose values are out of date: a re-run `through` some values stopped before recomputing them.
    var stale: Set<Int> = []
    /// The run's hooks, which re-create a hooked value the cache keeps only raw (`ExecutionPlan.dropHooked`).
    var hooks: TensorHooks = .none
    /// Slots whose values are held in the channel-blocked layout (`ExecutionPlan.cachingSteps`); re-runs from this
    /// cache run the same steps.
    var blocked: Set<Int> = []

    /// Whether every value is up to date (no re-run stopped early).
    public var isComplete: Bool { stale.isEmpty }

    /// The value a name had in the cached run, as consumers read it (re-made from the raw value when only that is kept).
    public func value(named name: String) -> Tensor? {
        guard let s = slots[name] else { return nil }
        if let value = values[s] { return inNCHW(value, slot: s) }
        return unhooked[s].map { inNCHW(hooks.applied(name, toShared: $0) ?? $0, slot: s) }
    }

    /// The value of a name before its hook was applied (the same as `value(named:)` without a hook); nil when the
    /// cache keeps only the hooked form (its producer must run again without the hook).
    public func unhookedValue(named name: String) -> Tensor? {
        guard let s = slots[name] else { return nil }
        return rawValue(slot: s).map { inNCHW($0, slot: s) }
    }

    private func inNCHW(_ value: Tensor, slot s: Int) -> Tensor {
        blocked.contains(s) ? value.unblocked() : value
    }

    /// The raw value of slot `s`: kept beside its hooked form, or the value itself when the run had no hook on it.
    func rawValue(slot s: Int) -> Tensor? {
        if let raw = unhooked[s] { return raw }
        guard hooks[names[s]] == nil else { return nil }
        return values[s]
    }
}

/// The outputs of a run and, when asked for, the cache of all its values.
public struct ExecutionResult: Sendable {
    /// Graph outputs by name.
    public var outputs: [String: Tensor]
    /// Every value of the run, when run with `.all` retention.
    public var cache: ActivationCache?
}

/// Which values a run keeps after their last reader.
public enum Retention: Sendable {
    /// Free intermediate values as soon as nothing reads them; keep the graph outputs.
    case outputs
    /// Keep everything, returning an `ActivationCache`.
    case all
}
