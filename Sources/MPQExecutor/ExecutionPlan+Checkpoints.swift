import MPQGraph

extension ExecutionPlan {
    /// Bytes of the values one run computes at the compiled shapes (graph inputs and step outputs, not constants).
    public var activationBytes: Int {
        var total = 0
        for (s, type) in valueTypes.enumerated() where constants[s] == nil {
            let bytes = switch type.elementType {
            case .float32: 4
            case .int64: 8
            case .bool: 1
            }
            total += (Tensor.checkedCount(of: type.shape) ?? 0) * bytes
        }
        return total
    }

    /// This plan with `.all` runs keeping only every `stride`-th step's outputs, the graph inputs and outputs.
    ///
    /// A re-run recomputes a dropped value from the nearest kept ones when a step it runs reads it, so caches
    /// take about 1/`stride` of the memory for a few extra steps per re-run; results are unchanged. A stride
    /// of 1 keeps everything.
    ///
    /// Of a kept activation with a hook, only the raw value stays (see `dropHooked`): fake-quantizing it again
    /// when a re-run reads it is cheaper than the producer re-runs that more checkpointing would cost. (Without
    /// checkpoints only the hooked value stays: on small models re-applying the hooks costs more time than re-running
    /// the producer of the one whose hook changed.)
    public func checkpointing(every stride: Int) -> ExecutionPlan {
        var plan = self
        guard stride > 1 else { plan.keptSlots = nil; return plan }
        var kept = [Bool](repeating: false, count: valueNames.count)
        for s in inputSlots { kept[s] = true }
        for s in outputSlots { kept[s] = true }
        for s in constants.keys { kept[s] = true }
        for (i, step) in steps.enumerated() where i % stride == stride - 1 {
            for s in step.outputs where s >= 0 { kept[s] = true }
        }
        plan.keptSlots = kept
        return plan
    }

    /// The stride `checkpointing(every:)` needs for `batches` cached runs to fit in `budget` bytes (1 when they fit).
    public func checkpointStride(batches: Int, budget: Int) -> Int {
        let total = activationBytes.multipliedReportingOverflow(by: max(batches, 1))
        guard !total.overflow else { return max(steps.count, 1) }
        guard total.partialValue > budget, budget > 0 else { return 1 }
        return min((total.partialValue + budget - 1) / budget, max(steps.count, 1))
    }

    /// Whether `.all` runs drop some values (see `checkpointing(every:)`).
    public var isCheckpointed: Bool { keptSlots != nil }

    /// Drops the hooked form of activations whose raw value is kept, once the run has no more readers for it
    /// (nothing without checkpoints).
    ///
    /// A re-run needs the raw value (to apply a changed hook) and re-applies an unchanged hook when a step it runs
    /// reads the value, so a cache holds one copy of each hooked activation instead of two. Graph outputs and
    /// weights keep both.
    func dropHooked<S: Sequence>(_ slots: S, values: inout [Tensor?], unhooked: [Int: Tensor],
                                 except wanted: Set<Int> = []) where S.Element == Int {
        guard isCheckpointed else { return }
        for s in slots where unhooked[s] != nil && constants[s] == nil && !wanted.contains(s) && !outputSlots.contains(s) {
            values[s] = nil
        }
    }

    /// Drops the values of `slots` that a checkpointed run does not keep (nothing without checkpoints).
    func dropUnkept<S: Sequence>(_ slots: S, values: inout [Tensor?], unhooked: inout [Int: Tensor],
                                 except wanted: Set<Int> = []) where S.Element == Int {
        guard let keptSlots else { return }
        for s in slots where !keptSlots[s] && !wanted.contains(s) {
            values[s] = nil
            unhooked[s] = nil
        }
    }
}
