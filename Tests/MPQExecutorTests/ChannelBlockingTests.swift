import Testing
import MPQGraph
import MPQKernels
@testable import MPQExecutor

private func info(_ name: String, _ shape: [Int]) -> ValueInfo {
    ValueInfo(name: name, elementType: .float32, declaredTypeName: "float", shape: shape.map { .fixed($0) })
}

/// A residual CNN in small, odd sizes: a 3-channel stem and a max pooling, two residual blocks (an identity one, and one with a
/// stride-2 1×1 projection, a dilated 3×3 and a depthwise 3×3), a 12-channel convolution (not whole blocks of 8 or
/// 16), and two pooled graph outputs, one of them read straight from a residual sum.
private func residualGraph(channels c: Int) -> (Graph, [String: Tensor]) {
    var rand = SeededFloats(state: 7)
    var initializers: [String: Tensor] = [:]
    var nodes: [Node] = []
    func conv(_ name: String, _ x: String, cin: Int, cout: Int, kernel: Int = 3, group: Int = 1,
              _ attributes: [String: Attribute] = [:]) {
        let w = [cout, cin / group, kernel, kernel]
        initializers[name + ".w"] = Tensor(shape: w, floats: rand.floats(w.reduce(1, *)).map { $0 * 0.3 })
        initializers[name + ".b"] = Tensor(shape: [cout], floats: rand.floats(cout))
        var attributes = attributes
        attributes["group"] = .int(group)
        nodes.append(Node(name: name, opType: "Conv", inputs: [x, name + ".w", name + ".b"], outputs: [name], attributes: attributes))
    }
    func node(_ op: String, _ inputs: [String], _ output: String) {
        nodes.append(Node(name: output, opType: op, inputs: inputs, outputs: [output]))
    }
    let same: [String: Attribute] = ["pads": .ints([1, 1, 1, 1])]
    conv("stem", "x", cin: 3, cout: c, same)
    node("Relu", ["stem"], "a0")
    nodes.append(Node(name: "pool", opType: "MaxPool", inputs: ["a0"], outputs: ["a"],
                      attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]))
    conv("b1", "a", cin: c, cout: c, same)
    node("Relu", ["b1"], "b1r")
    conv("b2", "b1r", cin: c, cout: c, same)
    node("Add", ["b2", "a"], "s1")
    node("Relu", ["s1"], "r1")
    conv("proj", "r1", cin: c, cout: 2 * c, kernel: 1, ["strides": .ints([2, 2])])
    conv("c1", "r1", cin: c, cout: 2 * c, ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])
    conv("c2", "c1", cin: 2 * c, cout: 2 * c, ["dilations": .ints([2, 2]), "pads": .ints([2, 2, 2, 2])])
    node("Add", ["c2", "proj"], "r2")
    conv("dw", "r2", cin: 2 * c, cout: 2 * c, group: 2 * c, same)
    node("Relu", ["dw"], "e")
    conv("odd", "e", cin: 2 * c, cout: 12, same)
    node("GlobalAveragePool", ["odd"], "g")
    node("GlobalAveragePool", ["r2"], "h")
    let x = [3, 3, 9, 11]
    let graph = Graph(nodes: nodes, initializers: initializers, inputs: [info("x", x)],
                      outputs: [info("g", [3, 12, 1, 1]), info("h", [3, 2 * c, 1, 1])], opsetVersion: 13)
    return (graph, ["x": Tensor(shape: x, floats: rand.floats(x.reduce(1, *)))])
}

/// The names of the values a forward pass keeps blocked.
private func blockedNames(_ plan: ExecutionPlan) -> Set<String> {
    Set(plan.channelBlockedSteps.filter { $0.blockedOutput && !$0.isFusedAway }.map { plan.valueNames[$0.outputs[0]] })
}

@Test("A forward pass keeps convolutions' activations blocked and gives the plain pass's outputs", arguments: [8, 16])
func channelBlockedForwardMatchesPlain(channels: Int) throws {
    // CI's machines have oneDNN (blocks of 8 with AVX2, 16 with AVX-512).
    try #require(Gemm.backend == .oneDNN && OneDNNConvolution.enabled)
    guard ChannelBlocks.fits(channels: channels) else { return }
    for optimized in [false, true] {
        var (graph, inputs) = residualGraph(channels: channels)
        if optimized { graph = try GraphOptimizer().optimize(graph).0 }
        let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [3, 3, 9, 11]])
        let blocked = blockedNames(plan)
        // The residual blocks stay blocked (fused or not, the sums' names survive); the 12-channel output, the pooled
        // graph outputs and the input do not. Both residual Adds are computed by the convolutions before them (b2 and
        // c2, whose own results no longer exist), adding into the other operand's buffer.
        let expected: Set<String> = optimized ? ["a0", "a", "b1r", "r1", "proj", "c1", "r2"]
            : ["stem", "a0", "a", "b1", "b1r", "s1", "r1", "proj", "c1", "r2"]
        #expect(expected.isSubset(of: blocked), "optimized \(optimized): \(blocked.sorted())")
        #expect(blocked.isDisjoint(with: ["x", "odd", "g", "h", "b2", "c2"]))
        let fusedAdds = plan.channelBlockedSteps.filter(\.isFusedAway).map(\.node.opType)
        #expect(fusedAdds == ["Add", "Add"])
        let fast = try plan.run(inputs).outputs
        // Keeping every activation runs the plain steps.
        let plain = try plan.run(inputs, retain: .all).outputs
        for name in ["g", "h"] {
            let a = try #require(fast[name]?.floats), b = try #require(plain[name]?.floats)
            let scale = b.map(abs).max() ?? 1
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
            #expect(diff <= 1e-5 * max(scale, 1), "\(name), optimized \(optimized): max |Δ| \(diff)")
        }
        // The per-step profile runs the same steps.
        #expect(try plan.stepTimes(inputs).count == plan.channelBlockedSteps.count - 2)
    }
}

@Test("A value whose other readers outnumber its convolutions stays NCHW")
func channelBlockingSkipsValuesMostlyReadPlain() throws {
    try #require(Gemm.backend == .oneDNN && OneDNNConvolution.enabled)
    let c = ChannelBlocks.size
    var rand = SeededFloats(state: 3)
    // A convolution whose result only poolings and a Reshape-like Flatten read: blocking it saves one reorder and
    // costs three.
    let w = [c, c, 3, 3]
    let graph = Graph(
        nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["pads": .ints([1, 1, 1, 1])]),
                Node(name: "p1", opType: "GlobalAveragePool", inputs: ["y"], outputs: ["p1"]),
                Node(name: "p2", opType: "MaxPool", inputs: ["y"], outputs: ["p2"],
                     attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
                Node(name: "f", opType: "Flatten", inputs: ["y"], outputs: ["f"])],
        initializers: ["w": Tensor(shape: w, floats: rand.floats(w.reduce(1, *)))],
        inputs: [info("x", [2, c, 5, 7])],
        outputs: [info("p1", [2, c, 1, 1]), info("p2", [2, c, 2, 3]), info("f", [2, c * 35])], opsetVersion: 13)
    let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [2, c, 5, 7]])
    #expect(plan.channelBlockedValueCount == 0)
}

@Test("Unblocking copies each channel block back to its NCHW planes")
func unblockingMatchesTheLayoutsDefinition() {
    let b = ChannelBlocks.size, (n, c, plane) = (2, 2 * ChannelBlocks.size, 5)
    // Blocked element [image][block][pixel][lane] holds the value of channel block·b + lane.
    var blocked = [Float](repeating: 0, count: n * c * plane)
    for i in 0..<n { for k in 0..<(c / b) { for p in 0..<plane { for lane in 0..<b {
        blocked[((i * (c / b) + k) * plane + p) * b + lane] = Float(i * 10_000 + (k * b + lane) * 100 + p)
    }}}}
    var plain = [Float](repeating: -1, count: blocked.count)
    ChannelBlocks.unblock(blocked, into: &plain, batch: n, channels: c, plane: plane)
    var expected: [Float] = []
    for i in 0..<n { for ch in 0..<c { for p in 0..<plane { expected.append(Float(i * 10_000 + ch * 100 + p)) } } }
    #expect(plain == expected)
}

@Test("A hooked forward pass keeps values blocked under per-element hooks and never fuses a sum away from a hooked result")
func hookedForwardPassesKeepBlocksWhereHooksAllow() throws {
    try #require(Gemm.backend == .oneDNN && OneDNNConvolution.enabled)
    let c = ChannelBlocks.size
    let (graph, inputs) = residualGraph(channels: c)
    let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [3, 3, 9, 11]])
    // An affine map: skipping it, or applying it twice, moves the outputs far beyond float rounding.
    let affine: TensorHooks.Transform = { t in Tensor(shape: t.shape, floats: t.floats!.map { $0 * 1.5 + 0.25 }) }
    var hooks = TensorHooks(["a": affine, "b2": affine, "r2": affine, "x": affine])
    hooks.perElement = ["a", "b2", "r2", "x"]
    let steps = plan.forwardSteps(under: hooks).steps
    let blocked = Set(steps.filter { $0.blockedOutput && !$0.isFusedAway }.map { plan.valueNames[$0.outputs[0]] })
    #expect(["a", "b2", "r2"].allSatisfy(blocked.contains), "\(blocked.sorted())")
    // b2's result is hooked, so its residual Add runs as a step; c2's is not, so that one is still fused.
    #expect(steps.filter(\.isFusedAway).map { plan.valueNames[$0.outputs[0]] } == ["r2"])
    let fast = try plan.run(inputs, hooks: hooks).outputs
    let plain = try plan.run(inputs, hooks: hooks, retain: .all).outputs
    for name in ["g", "h"] {
        let a = try #require(fast[name]?.floats), b = try #require(plain[name]?.floats)
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        #expect(diff <= 1e-5 * max(b.map(abs).max() ?? 1, 1), "\(name): max |Δ| \(diff)")
    }
    // A hook that may depend on positions (not declared per element) on a blocked value: the plain steps run.
    hooks["a"] = affine
    let anyBlocked = plan.forwardSteps(under: hooks).steps.contains { $0.blockedOutput }
    #expect(!anyBlocked)
    let unsafe = try plan.run(inputs, hooks: hooks).outputs
    let reference = try plan.run(inputs, hooks: hooks, retain: .all).outputs
    #expect(unsafe["g"]?.floats == reference["g"]?.floats)
    #expect(unsafe["h"]?.floats == reference["h"]?.floats)
}

@Test("A cache keeps blocked values for re-runs on the same steps and hands out NCHW values", arguments: [1, 3])
func cachedRunsKeepBlocksAndRerunExactly(checkpointStride: Int) throws {
    try #require(Gemm.backend == .oneDNN && OneDNNConvolution.enabled)
    let c = ChannelBlocks.size
    let (graph, inputs) = residualGraph(channels: c)
    let plan = try ExecutionPlan(graph: graph, inputShapes: ["x": [3, 3, 9, 11]]).checkpointing(every: checkpointStride)
    let base = try #require(plan.run(inputs, retain: .all).cache)
    #expect(base.blocked.contains(try #require(plan.slots["b1r"])))
    // Values come out in NCHW: the same as the plain steps' within rounding.
    // (An identity hook not declared per element on a blocked value: the plain steps.)
    let plainCache = try #require(plan.run(inputs, hooks: TensorHooks(["a": { $0 }]), retain: .all).cache)
    #expect(plainCache.blocked.isEmpty)
    // (A checkpointed cache keeps every third step's values.)
    for name in ["a", "b1r", "r1", "r2"] where base.value(named: name) != nil || checkpointStride == 1 {
        let a = try #require(base.value(named: name)?.floats), b = try #require(plainCache.value(named: name)?.floats)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-5 * max(b.map(abs).max()!, 1), "\(name)")
    }
    let affine: TensorHooks.Transform = { t in Tensor(shape: t.shape, floats: t.floats!.map { $0 * 1.5 + 0.25 }) }
    // Per-element hooks: the re-run takes the blocked steps and equals a full run bit for bit.
    var hooks = TensorHooks(["b1r": affine, "c1": affine])
    hooks.perElement = ["b1r", "c1"]
    let rerun = try plan.rerun(from: base, changed: ["b1r", "c1"], hooks: hooks, retain: .all)
    let full = try plan.run(inputs, hooks: hooks, retain: .all)
    #expect(rerun.outputs == full.outputs && rerun.cache?.blocked == base.blocked)
    #expect(rerun.cache?.value(named: "r1") == full.cache?.value(named: "r1"))
    // A hook that may depend on positions: the plain steps, from the graph inputs, again equal to a full run.
    hooks["c1"] = affine
    let plainRerun = try plan.rerun(from: try #require(rerun.cache), changed: ["c1"], hooks: hooks, retain: .all)
    #expect(plainRerun.outputs == (try plan.run(inputs, hooks: hooks, retain: .all)).outputs)
    #expect(plainRerun.cache?.blocked.isEmpty == true)
    // And back to FP32: the blocked steps once more, exactly the FP32 run.
    let back = try plan.rerun(from: try #require(plainRerun.cache), changed: ["b1r", "c1"], hooks: .none, retain: .all)
    #expect(back.outputs == (try plan.run(inputs, retain: .all)).outputs && back.cache?.blocked == base.blocked)
}
