import MPQGraph

/// Errors running a compiled plan.
public enum ExecutionError: Error, CustomStringConvertible, Equatable {
    case inputShape(input: String, expected: [Int], found: [Int])
    case inputType(input: String, expected: ElementType, found: ElementType)
    case missingCachedValue(String)
    case operatorOutput(node: String, reason: String)
    /// The model fixes a batch size so far above the samples given that the padding would dwarf them.
    case excessivePadding(fixedBatch: Int, samples: Int)

    public var description: String {
        switch self {
        case let .inputShape(input, expected, found):
            return "input '\(input)' has shape \(found) but the plan was compiled for \(expected)"
        case let .inputType(input, expected, found):
            return "input '\(input)' holds \(found) but the model expects \(expected)"
        case let .missingCachedValue(name):
            return "the activation cache has no value for '\(name)'; fill it with a run that retains all values"
        case let .operatorOutput(node, reason):
            return "node '\(node)': \(reason)"
        case let .excessivePadding(fixed, samples):
            return "the model fixes its batch size at \(fixed), but \(samples) samples would be padded to \(fixed) rows per pass; "
                + "export it with a dynamic batch axis or a batch of at most \(samples + BatchLayout.paddingAllowance), or give more samples"
        }
    }
}

extension ExecutionPlan {
    /// Runs the whole graph on `inputs` (one tensor per graph input, shaped as compiled).
    ///
    /// Activations may stay in oneDNN's blocked layout between convolutions (`ExecutionPlan+ChannelBlocking`; under
    /// hooks only where they act per element). A forward pass (`.outputs`) also fuses residual sums into convolutions,
    /// so its outputs may differ from a retaining run's by float rounding.
    public func run(_ inputs: [String: Tensor], hooks: TensorHooks = .none,
                    retain: Retention = .outputs) throws -> ExecutionResult {
        var values = [Tensor?](repeating: nil, count: valueNames.count)
        var unhooked: [Int: Tensor] = [:]
        let keepRaw = retain == .all
        for (s, tensor) in constants {
            // The plan keeps the constant, so the hook reads a shared buffer; its result is shared by every run
            // with these hooks.
            if let hooked = hooks.appliedToConstant(valueNames[s], tensor) {
                values[s] = hooked
                if keepRaw { unhooked[s] = tensor }
            } else {
                values[s] = tensor
            }
        }
        for (i, s) in inputSlots.enumerated() {
            let name = graph.inputs[i].name
            guard let tensor = inputs[name] else {
                throw GraphError.missingGraphInput(name, available: graph.inputs.map(\.name))
            }
            guard tensor.shape == valueTypes[s].shape else {
                throw ExecutionError.inputShape(input: name, expected: valueTypes[s].shape, found: tensor.shape)
            }
            guard tensor.elementType == valueTypes[s].elementType else {
                throw ExecutionError.inputType(input: name, expected: valueTypes[s].elementType, found: tensor.elementType)
            }
            store(tensor, slot: s, values: &values, unhooked: &unhooked, hooks: hooks, keepRaw: keepRaw)
        }
        // Activations may stay blocked between convolutions (a cache keeps them so, for re-runs on the same steps).
        let form = retain == .outputs ? forwardSteps(under: hooks) : cachingSteps(under: hooks)
        for (i, step) in form.steps.enumerated() {
            try execute(step, values: &values, unhooked: &unhooked, hooks: hooks, keepRaw: keepRaw,
                        handOver: keepRaw ? nil : step.handedOver ?? handOverSlot(of: step, at: i))
            if retain == .outputs {
                for case let s? in step.inputs where lastUse[s] == i { values[s] = nil }
            } else if isCheckpointed {
                let dead = step.inputs.compactMap { $0 }.filter { lastUse[$0] == i }
                dropUnkept(dead, values: &values, unhooked: &unhooked)
                dropHooked(dead, values: &values, unhooked: unhooked)
            }
        }
        if retain == .all { dropUnkept(values.indices, values: &values, unhooked: &unhooked) }
        return result(values: values, unhooked: unhooked, retain: retain, hooks: hooks, blocked: form.blocked)
    }

    /// Re-runs only the nodes downstream of `changed` values, reading everything else from `cache`.
    ///
    /// `changed` names values whose hook differs from the cached run (weights, inputs or
    /// activations). The result equals a full `run` with `hooks` and `.all` retention exactly, provided the hooks on
    /// unchanged values are the same as in the cached run.
    ///
    /// With `through`, nodes after the last producer of those values are not run: what they would
    /// have recomputed is marked stale in the returned cache (its graph outputs may be stale too), and
    /// a later re-run from that cache runs them when it reaches them. A step search that only needs
    /// activations in graph order thus runs the network once, not once per activation. The `through`
    /// values are always in the returned cache, as are `materializing` ones.
    ///
    /// A value a checkpointed cache dropped is recomputed from its producer when a step that runs reads it.
    public func rerun(from cache: ActivationCache, changed: Set<String>, hooks: TensorHooks,
                      retain: Retention = .outputs, through targets: Set<String>? = nil,
                      materializing wanted: Set<String> = []) throws -> ExecutionResult {
        // The steps a run keeps every value with under these hooks. When the cached run took others (its hooks
        // allowed blocked values and these do not, or the reverse), every step runs again from the graph inputs, so
        // the result is exactly a full run's with these hooks.
        let form = cachingSteps(under: hooks)
        var cache = cache
        var changed = changed
        if cache.blocked != form.blocked {
            for s in producer.indices where producer[s] != nil {
                cache.values[s] = nil
                cache.unhooked[s] = nil
            }
            cache.blocked = form.blocked
            changed.formUnion(graph.inputs.map(\.name))
        }
        var values = cache.values
        var unhooked = cache.unhooked
        var stale = cache.stale
        var dirty = [Bool](repeating: false, count: valueNames.count)
        // Steps that run although the change does not reach them: producers of dropped values someone reads.
        var recompute = [Bool](repeating: false, count: steps.count)
        for name in changed {
            guard let s = slots[name] else { throw GraphError.unknownValue(name) }
            // A stale value's producer runs again below and applies the new hook itself.
            if stale.contains(s) { continue }
            if let raw = constants[s] ?? cache.rawValue(slot: s) {
                if constants[s] == nil && !outputSlots.contains(s) {
                    // Hooked when a step that runs reads it: in an evaluation that changes many hooks most producers
                    // run again anyway, and a copy hooked now would be thrown away.
                    values[s] = nil
                    unhooked[s] = raw
                } else if constants[s] != nil {
                    let hooked = hooks.appliedToConstant(valueNames[s], raw)
                    values[s] = hooked ?? raw
                    unhooked[s] = hooked == nil ? nil : raw
                } else {
                    unhooked[s] = nil
                    store(raw, slot: s, values: &values, unhooked: &unhooked, hooks: hooks, keepRaw: true)
                }
            } else if let p = producer[s] {
                // Dropped by checkpointing: its producer runs again and applies the new hook.
                recompute[p] = true
            } else {
                throw ExecutionError.missingCachedValue(name)
            }
            dirty[s] = true
        }
        let wantedSlots = try Set((targets ?? []).union(wanted).map { name -> Int in
            guard let s = slots[name] else { throw GraphError.unknownValue(name) }
            return s
        })
        let limit = max(try targets.map(lastProducer(of:)) ?? Int.max, try lastProducer(of: wanted))
        let reached = reachedSteps(dirty: dirty, stale: stale, forced: recompute)
        let present = values.indices.map { values[$0] != nil || unhooked[$0] != nil }
        let runs = stepsToRun(reached: reached, limit: limit, present: present, stale: stale, wanted: wantedSlots,
                              recompute: recompute)
        var lastRead = [Int](repeating: -1, count: valueNames.count)
        for (i, step) in steps.enumerated() where runs[i] { for case let s? in step.inputs { lastRead[s] = i } }
        for (i, step) in form.steps.enumerated() {
            if reached[i] && i > limit {
                for s in step.outputs where s >= 0 { stale.insert(s); dirty[s] = true }
                continue
            }
            guard runs[i] else { continue }
            for case let s? in step.inputs where values[s] == nil {
                // A hooked value the cache keeps only raw: the (unchanged) hook makes it again.
                guard let raw = unhooked[s] else { throw ExecutionError.missingCachedValue(valueNames[s]) }
                values[s] = hooks.applied(valueNames[s], toShared: raw) ?? raw
            }
            for s in step.outputs where s >= 0 { unhooked[s] = nil; stale.remove(s) }
            try execute(step, values: &values, unhooked: &unhooked, hooks: hooks, keepRaw: true)
            if reached[i] { for s in step.outputs where s >= 0 { dirty[s] = true } }
            let dead = step.inputs.compactMap { $0 }.filter { lastRead[$0] == i }
            dropUnkept(dead, values: &values, unhooked: &unhooked, except: wantedSlots)
            dropHooked(dead, values: &values, unhooked: unhooked, except: wantedSlots)
        }
        if retain == .all { dropUnkept(values.indices, values: &values, unhooked: &unhooked, except: wantedSlots) }
        return result(values: values, unhooked: unhooked, retain: retain, hooks: hooks, stale: stale, blocked: form.blocked)
    }

    /// The steps a change reaches: those reading a dirty value (transitively), producing a stale one, or `forced`.
    private func reachedSteps(dirty: [Bool], stale: Set<Int>, forced: [Bool]) -> [Bool] {
        var dirty = dirty
        var reached = [Bool](repeating: false, count: steps.count)
        for (i, step) in steps.enumerated() {
            let inputsChanged = step.inputs.contains { $0.map { dirty[$0] } ?? false }
            guard forced[i] || inputsChanged || step.outputs.contains(where: { $0 >= 0 && stale.contains($0) }) else { continue }
            reached[i] = true
            for s in step.outputs where s >= 0 { dirty[s] = true }
        }
        return reached
    }

    /// The reached steps up to `limit`, plus the producers of every missing value they (or `wanted`) read.
    ///
    /// Without checkpoints nothing is missing and this is the reached steps; with them, dropped values are
    /// recomputed from the nearest kept ones (walking back, so a chain of dropped values is recomputed whole).
    private func stepsToRun(reached: [Bool], limit: Int, present: [Bool], stale: Set<Int>, wanted: Set<Int>,
                            recompute: [Bool]) -> [Bool] {
        var runs = reached.indices.map { reached[$0] && $0 <= limit }
        var missing = [Bool](repeating: false, count: valueNames.count)
        for s in wanted where !present[s] || stale.contains(s) { missing[s] = true }
        for i in steps.indices.reversed() {
            let step = steps[i]
            if !runs[i] {
                guard step.outputs.contains(where: { $0 >= 0 && missing[$0] }) || (recompute[i] && i <= limit) else { continue }
                runs[i] = true
            }
            for case let s? in step.inputs where !present[s] { missing[s] = true }
        }
        return runs
    }

    /// The index of the last step producing one of `names` (-1 when all are inputs or constants).
    private func lastProducer(of names: Set<String>) throws -> Int {
        try names.map { name -> Int in
            guard let s = slots[name] else { throw GraphError.unknownValue(name) }
            return producer[s] ?? -1
        }.max() ?? -1
    }

    /// The names of the nodes a change to `names` would re-run, in execution order.
    public func downstreamNodes(of names: Set<String>) -> [String] {
        var dirty = Set(names.compactMap { slots[$0] })
        var result: [String] = []
        for step in steps where step.inputs.contains(where: { $0.map(dirty.contains) ?? false }) {
            result.append(step.node.displayName)
            dirty.formUnion(step.outputs.filter { $0 >= 0 })
        }
        return result
    }

    /// The input slot an in-place operator may take over at step `i`: its `inPlaceInput`, when nothing reads
    /// that value later (not a graph output), it is neither a constant nor a graph input, and the step reads it once.
    private func handOverSlot(of step: Step, at i: Int) -> Int? {
        guard let k = step.op.inPlaceInput, k < step.inputs.count, !step.unblockInputs.contains(k), let s = step.inputs[k],
              lastUse[s] == i, constants[s] == nil, !inputSlots.contains(s),
              step.inputs.filter({ $0 == s }).count == 1 else { return nil }
        return s
    }

    /// Runs one step and stores its outputs.
    ///
    /// `keepRaw` (an `.all` run) keeps the raw form of a hooked output beside the hooked one only in a checkpointed
    /// plan, which then drops the hooked form (`dropHooked`). Otherwise the hook rewrites the fresh output in place and
    /// a later change to that hook re-runs the producer (`rerun`): one node, where keeping both forms cost a copy of
    /// every hooked activation in each evaluation and twice the memory.
    private func execute(_ step: Step, values: inout [Tensor?], unhooked: inout [Int: Tensor],
                         hooks: TensorHooks, keepRaw: Bool, handOver: Int? = nil) throws {
        if step.isFusedAway { return }
        var outputs: [Tensor]
        if let s = handOver {
            // The value dies here: give the operator the only reference, so it can write into its buffer.
            var inputs = step.inputs.map { $0.flatMap { values[$0] } }
            values[s] = nil
            inputs = inputs.unblocking(step.unblockInputs)
            outputs = try step.op.run(consuming: consume inputs)
        } else {
            outputs = try step.inputs.withUnsafeBufferPointer { slots in
                try step.op.run(slots.map { $0.flatMap { values[$0] } }.unblocking(step.unblockInputs))
            }
        }
        for (k, s) in step.outputs.enumerated() where s >= 0 {
            guard k < outputs.count else {
                throw ExecutionError.operatorOutput(node: step.node.displayName, reason: "produced \(outputs.count) outputs, expected \(step.outputs.count)")
            }
            // Moved out of the array, so a hook owns the only reference and can work in place.
            let output = outputs[k]
            outputs[k] = Self.movedOut
            store(output, slot: s, values: &values, unhooked: &unhooked, hooks: hooks, keepRaw: keepRaw && isCheckpointed)
        }
    }

    /// What an output slot holds once its tensor has been handed on.
    private static let movedOut = Tensor(shape: [0], floats: [])

    private func store(_ tensor: consuming Tensor, slot s: Int, values: inout [Tensor?], unhooked: inout [Int: Tensor],
                       hooks: TensorHooks, keepRaw: Bool) {
        if keepRaw, let hooked = hooks.applied(valueNames[s], toShared: tensor) {
            values[s] = hooked
            unhooked[s] = tensor
        } else if let hook = hooks[valueNames[s]] {
            values[s] = hook(tensor)
        } else {
            values[s] = tensor
        }
    }

    private func result(values: [Tensor?], unhooked: [Int: Tensor], retain: Retention, hooks: TensorHooks,
                        stale: Set<Int> = [], blocked: Set<Int>) -> ExecutionResult {
        var outputs: [String: Tensor] = [:]
        for (i, s) in outputSlots.enumerated() { outputs[graph.outputs[i].name] = values[s] }
        let cache = retain == .all
            ? ActivationCache(values: values, unhooked: unhooked, slots: slots, names: valueNames, stale: stale, hooks: hooks,
                              blocked: blocked) : nil
        return ExecutionResult(outputs: outputs, cache: cache)
    }
}
