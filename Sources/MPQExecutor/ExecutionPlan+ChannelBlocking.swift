import Foundation
import MPQGraph
import MPQKernels

/// Channel blocking: in a forward pass without hooks, activations flow from one oneDNN convolution to the next in
/// oneDNN's blocked layout (`ChannelBlocks`), as ONNX Runtime's NCHWc transformer does, instead of being reordered to
/// NCHW after each convolution and back before the next.
///
/// A value can be blocked when it is a 4-D float activation with whole blocks of channels, no graph input or output.
/// Element-wise steps (a residual Add, a ReLU) are layout-free: their operands and result share one layout, so values
/// linked by them form a group that is blocked or not as a whole. A group is blocked when every producer is a
/// convolution oneDNN can run with a blocked output, a max pooling of a blocked value (it pools blocks as they are)
/// or a layout-free step, and more convolutions and poolings read or write it than other steps read it; those other
/// steps (a global pooling, a Reshape) get NCHW copies of their blocked inputs.
///
/// A residual Add of two blocked values, one of them a convolution's result that only the Add reads, is then fused into
/// that convolution when the other operand is dead after the Add and no step between the two reads it: the convolution
/// adds its result to the operand in the operand's buffer (oneDNN's sum post-op) and applies the Add's activation, and
/// the Add's step does nothing (ResNet-18: one pass over each block's output less).
///
/// Hooked runs use this only where every hook on a blocked value acts per element (a per-tensor fake quantizer,
/// `TensorHooks.perElement`); a hooked convolution result is never the host of a fused sum, which would not write it,
/// and a run that keeps every value fuses no sum (`cachingSteps`). Its cache holds blocked values as they are, and a
/// re-run from it runs the same steps (or, when its hooks choose the other steps, every step from the graph inputs);
/// callers read NCHW tensors. Results equal the plain plan's up to float rounding where a 1×1 or depthwise convolution moves from the
/// hand-written kernels to oneDNN.
/// `MPQ_CHANNEL_BLOCKING=0` turns it off (for side-by-side comparisons).
extension ExecutionPlan {
    static let channelBlockingEnabled = ProcessInfo.processInfo.environment["MPQ_CHANNEL_BLOCKING"] != "0"

    /// Op types whose result is computed element by element from operands of its own shape (or scalars).
    static let layoutFreeOps: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "Tanh",
    ]

    /// The steps of an unhooked forward pass, channel-blocked where that saves reorders (computed on first use).
    var channelBlockedSteps: [Step] { blockedForm(.allBut([])).steps }

    /// The steps of a forward pass under `hooks` that keeps no activations: channel-blocked (with no fused sum
    /// hosted by a hooked convolution result) when every hook on a blocked value acts per element, else the plain ones.
    func forwardSteps(under hooks: TensorHooks) -> BlockedSteps {
        guard !hooks.isEmpty else { return blockedForm(.allBut([])) }
        let hookedConvResults = Set(hooks.transforms.keys.compactMap { slots[$0] }.filter(isConvolutionResult))
        let form = blockedForm(.allBut(hookedConvResults))
        return form.admits(hooks, slots: slots) ? form : BlockedSteps(plain: steps)
    }

    /// The steps of a run that keeps every value under `hooks`: channel-blocked with no sum fused away (every value
    /// exists, with the plain steps' inputs and outputs), or the plain ones when a hook on a blocked value may not act
    /// per element.
    func cachingSteps(under hooks: TensorHooks) -> BlockedSteps {
        let form = blockedForm(.none)
        return form.admits(hooks, slots: slots) ? form : BlockedSteps(plain: steps)
    }

    /// The form of the blocked steps fusing `sums` (made on first use).
    private func blockedForm(_ sums: SumFusion) -> BlockedSteps {
        channelBlocking.form(sums) { BlockedSteps(steps: Self.channelBlocked(self, sums: sums)) }
    }

    private func isConvolutionResult(_ s: Int) -> Bool {
        producer[s].map { steps[$0].op is ConvOperator } ?? false
    }

    /// How many values an unhooked forward pass keeps in the blocked layout.
    public var channelBlockedValueCount: Int { channelBlockedSteps.filter { $0.blockedOutput && !$0.isFusedAway }.count }

    /// `plan`'s steps with blocked values assigned, or its own steps when nothing is worth blocking; residual sums are
    /// fused as `sums` allows.
    ///
    /// Layouts are chosen with `ConvOperator.mayRun`'s cheap checks; then the convolutions' chosen forms create their
    /// primitives, and a convolution oneDNN turns out to have no kernels for is left plain and the choice made again.
    private static func channelBlocked(_ plan: ExecutionPlan, sums: SumFusion) -> [Step] {
        guard channelBlockingEnabled, Gemm.backend == .oneDNN, ChannelBlocks.size > 0 else { return plan.steps }
        let layoutFree = plan.steps.map { isLayoutFree($0, in: plan) }
        var groups = ValueGroups(count: plan.valueNames.count)
        for (i, step) in plan.steps.enumerated() where layoutFree[i] {
            for case let s? in step.inputs where plan.blockable(s) { groups.join(s, step.outputs[0]) }
        }
        var plainConvs = Set<Int>()
        while true {
            let blocked = blockedValues(plan, groups, layoutFree: layoutFree, plainConvs: plainConvs)
            guard !blocked.isEmpty else { return plan.steps }
            var steps = assigned(plan, blocked, layoutFree: layoutFree, plainConvs: plainConvs)
            fuseResidualSums(&steps, plan, sums)
            let failed = steps.indices.filter { (steps[$0].op as? ConvOperator)?.isRunnable == false }
            if failed.isEmpty { return steps }
            plainConvs.formUnion(failed)
        }
    }

    /// The plan's steps reading and writing the `blocked` values in the blocked layout.
    private static func assigned(_ plan: ExecutionPlan, _ blocked: Set<Int>, layoutFree: [Bool],
                                 plainConvs: Set<Int>) -> [Step] {
        plan.steps.indices.map { i in
            var step = plan.steps[i]
            if layoutFree[i] {
                step.blockedOutput = blocked.contains(step.outputs[0])
                return step
            }
            if let pool = step.op as? MaxPoolOperator, let x = step.inputs[0], blocked.contains(x),
               blocked.contains(step.outputs[0]) {
                step.op = pool.blockedForm()
                step.blockedOutput = true
                return step
            }
            let conv = plainConvs.contains(i) ? nil : step.op as? ConvOperator
            let outputBlocked = conv != nil && blocked.contains(step.outputs[0])
            let inputBlocked = conv != nil && (step.inputs.first.flatMap { $0 }.map(blocked.contains) ?? false)
            let layout = [ConvolutionLayout(blockedInput: inputBlocked, blockedOutput: outputBlocked),
                          ConvolutionLayout(blockedOutput: outputBlocked)].first { !$0.isPlain && conv?.mayRun($0) == true }
            if let conv, let layout {
                step.op = conv.blocked(layout)
                step.blockedOutput = outputBlocked
                if !layout.blockedInput && inputBlocked { step.unblockInputs = [0] }
                step.unblockInputs += step.inputs.indices.dropFirst().filter { step.inputs[$0].map(blocked.contains) ?? false }
            } else {
                step.unblockInputs = step.inputs.indices.filter { step.inputs[$0].map(blocked.contains) ?? false }
            }
            return step
        }
    }

    /// Fuses each blocked residual Add into the convolution producing one operand (where `sums` allows), where the
    /// other operand's buffer can take the sum (see the extension's documentation).
    private static func fuseResidualSums(_ steps: inout [Step], _ plan: ExecutionPlan, _ sums: SumFusion) {
        var readers = [[Int]](repeating: [], count: plan.valueNames.count)
        for (i, step) in steps.enumerated() { for case let s? in step.inputs { readers[s].append(i) } }
        for i in steps.indices where steps[i].node.opType == "Add" && steps[i].blockedOutput {
            guard let add = steps[i].op as? BinaryOperator, steps[i].inputs.count == 2,
                  let a = steps[i].inputs[0], let b = steps[i].inputs[1], a != b else { continue }
            // The later-computed convolution hosts the sum; the other operand must be ready and free by then.
            let hosts = [(a, b), (b, a)].compactMap { host, other -> (j: Int, conv: ConvOperator, other: Int)? in
                guard sums.allows(host), let j = plan.producer[host], let conv = steps[j].op as? ConvOperator,
                      conv.residual == nil,
                      conv.layout.blockedOutput, readers[host] == [i],
                      let p = plan.producer[other], p < j, readers[other].allSatisfy({ $0 < j || $0 == i }),
                      readers[other].filter({ $0 == i }).count == 1, plan.lastUse[other] == i,
                      conv.mayRun(conv.layout, residual: add.activation) else { return nil }
                return (j, conv.blocked(conv.layout, residual: add.activation), other)
            }
            guard let host = hosts.max(by: { $0.j < $1.j }) else { continue }
            var step = steps[host.j]
            step.op = host.conv
            while step.inputs.count < 3 { step.inputs.append(nil) }
            step.inputs.append(host.other)
            step.outputs = [steps[i].outputs[0]]
            step.handedOver = host.other
            steps[host.j] = step
            steps[i].isFusedAway = true
            readers[host.other].append(host.j)
        }
    }

    /// The values of the groups worth blocking, such that every max pooling that pools blocks has a blocked input
    /// and output (a pooling whose two sides came out differently is taken as a plain step and the groups weighed
    /// again, until none does).
    private static func blockedValues(_ plan: ExecutionPlan, _ groups: ValueGroups, layoutFree: [Bool],
                                      plainConvs: Set<Int>) -> Set<Int> {
        var pools = Set(plan.steps.indices.filter { i in
            let step = plan.steps[i]
            return step.op is MaxPoolOperator && step.inputs[0].map(plan.blockable) == true && plan.blockable(step.outputs[0])
        })
        while true {
            let blocked = blockedValues(plan, groups, layoutFree: layoutFree, pools: pools, plainConvs: plainConvs)
            let mixed = pools.filter { blocked.contains(plan.steps[$0].inputs[0]!) != blocked.contains(plan.steps[$0].outputs[0]) }
            if mixed.isEmpty { return blocked }
            pools.subtract(mixed)
        }
    }

    /// The values of the groups worth blocking if the steps `pools` pool blocks: every producer can write blocked,
    /// and convolutions and poolings reading or writing the group outnumber the other steps that read it (each of
    /// those costs a reorder).
    private static func blockedValues(_ plan: ExecutionPlan, _ groups: ValueGroups, layoutFree: [Bool], pools: Set<Int>,
                                      plainConvs: Set<Int>) -> Set<Int> {
        var producible = [Int: Bool](), score = [Int: Int]()
        for s in plan.valueNames.indices where plan.blockable(s) {
            let p = plan.producer[s]!, g = groups.root(s), step = plan.steps[p]
            if layoutFree[p] {
                if producible[g] == nil { producible[g] = true }
                continue
            }
            let conv = plainConvs.contains(p) ? nil : step.op as? ConvOperator
            let writes = step.outputs.first == s
                && (pools.contains(p) || conv?.mayRun(ConvolutionLayout(blockedOutput: true)) == true)
            producible[g] = producible[g, default: true] && writes
            score[g, default: 0] += writes ? 1 : 0
        }
        for (i, step) in plan.steps.enumerated() where !layoutFree[i] {
            for (k, input) in step.inputs.enumerated() {
                guard let s = input, plan.blockable(s) else { continue }
                let conv = plainConvs.contains(i) ? nil : step.op as? ConvOperator
                let reads = k == 0 && (pools.contains(i) || conv?.mayRun(ConvolutionLayout(blockedInput: true)) == true)
                score[groups.root(s), default: 0] += reads ? 1 : -1
            }
        }
        return Set(plan.valueNames.indices.filter { s in
            guard plan.blockable(s) else { return false }
            let g = groups.root(s)
            return producible[g] == true && score[g, default: 0] > 0
        })
    }

    /// Whether a value may be kept blocked: a computed 4-D float activation, no graph input or output, with whole blocks.
    private func blockable(_ s: Int) -> Bool {
        let t = valueTypes[s]
        return producer[s] != nil && !outputSlots.contains(s) && t.elementType == .float32 && t.shape.count == 4
            && ChannelBlocks.fits(channels: t.shape[1])
    }

    /// Whether a step computes its one output element by element from blockable operands of the output's shape
    /// (and constant scalars), so it runs the same on blocked buffers.
    private static func isLayoutFree(_ step: Step, in plan: ExecutionPlan) -> Bool {
        guard layoutFreeOps.contains(step.node.opType), step.node.domain.isEmpty, step.outputs.count == 1,
              step.outputs[0] >= 0, plan.blockable(step.outputs[0]) else { return false }
        let shape = plan.valueTypes[step.outputs[0]].shape
        var operands = 0
        for case let s? in step.inputs {
            if plan.constants[s]?.count == 1 { continue }
            guard plan.blockable(s), plan.valueTypes[s].shape == shape else { return false }
            operands += 1
        }
        return operands > 0
    }
}

/// Disjoint sets of value slots (union–find).
private struct ValueGroups {
    private var parent: [Int]

    init(count: Int) { parent = Array(0..<count) }

    func root(_ s: Int) -> Int {
        var s = s
        while parent[s] != s { s = parent[s] }
        return s
    }

    mutating func join(_ a: Int, _ b: Int) {
        let (ra, rb) = (root(a), root(b))
        if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
    }
}

/// Which residual sums a form of the channel-blocked steps fuses into the convolutions before them.
enum SumFusion: Hashable {
    /// Every one but those hosted by these convolution results (hooked, so they must be written).
    case allBut(Set<Int>)
    /// None: every value exists (a run that keeps them all).
    case none

    /// Whether the convolution producing `host` may compute a sum instead.
    func allows(_ host: Int) -> Bool {
        switch self {
        case .allBut(let kept): !kept.contains(host)
        case .none: false
        }
    }
}

/// One form of a plan's steps with the slots it writes in the blocked layout (none: the plain steps).
struct BlockedSteps {
    var steps: [ExecutionPlan.Step]
    let blocked: Set<Int>

    init(steps: [ExecutionPlan.Step]) {
        self.steps = steps
        blocked = Set(steps.lazy.filter(\.blockedOutput).map { $0.outputs[0] })
    }

    init(plain steps: [ExecutionPlan.Step]) {
        self.steps = steps
        blocked = []
    }

    /// Whether every hook on a value these steps keep blocked acts per element.
    func admits(_ hooks: TensorHooks, slots: [String: Int]) -> Bool {
        hooks.transforms.keys.allSatisfy { name in
            hooks.perElement.contains(name) || slots[name].map { !blocked.contains($0) } ?? true
        }
    }
}

/// The channel-blocked forms of a plan's steps, made on first use and shared by the plan's copies: one per way of
/// fusing residual sums (an unhooked pass, a hooked one, a run that keeps every value).
final class ChannelBlockingCache: @unchecked Sendable {
    private let lock = NSLock()
    private var made: [(sums: SumFusion, form: BlockedSteps)] = []
    /// Forms kept at most (the oldest goes first): a plan is run unhooked, under one or two sets of hooked values,
    /// and keeping every value.
    static let capacity = 4

    func form(_ sums: SumFusion, _ make: () -> BlockedSteps) -> BlockedSteps {
        lock.lock()
        defer { lock.unlock() }
        if let known = made.first(where: { $0.sums == sums }) { return known.form }
        let form = make()
        if made.count == Self.capacity { made.removeFirst() }
        made.append((sums, form))
        return form
    }
}

extension Tensor {
    /// This 4-D tensor's elements, held in `ChannelBlocks`' layout, in NCHW.
    func unblocked() -> Tensor {
        guard case .float(let v) = storage else { return self }
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let plain = [Float](unsafeUninitializedCapacity: v.count) { out, count in
            v.withUnsafeBufferPointer { ChannelBlocks.unblock($0.baseAddress!, into: out.baseAddress!, batch: n, channels: c, plane: plane) }
            count = v.count
        }
        return Tensor(shape: shape, floats: plain)
    }
}

extension [Tensor?] {
    /// These inputs with the ones at `positions` copied from the blocked layout to NCHW (themselves when none).
    func unblocking(_ positions: [Int]) -> [Tensor?] {
        guard !positions.isEmpty else { return self }
        var inputs = self
        for k in positions { inputs[k] = inputs[k]?.unblocked() }
        return inputs
    }
}
