import MPQGraph

/// A graph compiled for concrete input shapes: operators built, shapes inferred, value slots
/// numbered and lifetimes known. Build once per input shape, run many times.
public struct ExecutionPlan: Sendable {
    /// One compiled node.
    struct Step: Sendable {
        var node: Node
        var op: any Operator
        /// Value slot per node input; nil for an omitted optional input.
        var inputs: [Int?]
        var outputs: [Int]
        /// Inputs that arrive in the blocked layout and are copied to NCHW first (channel-blocked steps only).
        var unblockInputs: [Int] = []
        /// Whether the first output is written in the blocked layout (channel-blocked steps only).
        var blockedOutput = false
        /// A residual Add a convolution before it computes (channel-blocked steps only): the step does nothing.
        var isFusedAway = false
        /// The input slot this step writes its result into, handed over by the run (a fused residual sum).
        var handedOver: Int?
    }

    public let graph: Graph
    /// Concrete input shapes the plan was built for.
    public let inputShapes: [String: [Int]]
    /// Value names by slot.
    public let valueNames: [String]
    /// Types by slot.
    public let valueTypes: [TensorType]
    /// Slot by value name.
    public let slots: [String: Int]
    let steps: [Step]
    /// Constant values by slot: initializers, plus the outputs of nodes folded at compile time.
    let constants: [Int: Tensor]
    /// Slots whose constant value was computed at compile time (folded node outputs, not initializers).
    let foldedSlots: Set<Int>
    /// Slots of the graph inputs, in declaration order.
    let inputSlots: [Int]
    /// Slots of the graph outputs, in declaration order.
    let outputSlots: [Int]
    /// For each slot, the index of the last step that reads it (-1 when none does).
    let lastUse: [Int]
    /// For each slot, the step that produces it (nil for inputs, initializers and folded constants).
    let producer: [Int?]
    /// Slots an `.all` run keeps (nil: every slot); the others are recomputed when a re-run needs them.
    var keptSlots: [Bool]? = nil
    /// The steps of an unhooked forward pass with blocked activations, made on first use.
    let channelBlocking: ChannelBlockingCache

    /// Compiles `graph` for the given input shapes (every graph input must have one).
    ///
    /// Shape computations are folded for these shapes: a node whose output depends only on its
    /// input's type (`Shape`, `Size`), or whose inputs are all constants, is evaluated once here and
    /// its outputs become constants instead of steps, so that `Range`, `Expand`, `Reshape` and the
    /// like see constant shape inputs. Nodes reading a float32 graph initializer are never folded
    /// here (they are left to `GraphOptimizer`), so a hook on a weight still reaches its readers.
    public init(graph: Graph, inputShapes: [String: [Int]]) throws {
        self.graph = graph
        self.inputShapes = inputShapes
        var names: [String] = []
        var types: [TensorType] = []
        var slots: [String: Int] = [:]
        var constants: [Int: Tensor] = [:]
        func add(_ name: String, _ type: TensorType) -> Int {
            if let s = slots[name] { types[s] = type; return s }
            names.append(name)
            types.append(type)
            slots[name] = names.count - 1
            return names.count - 1
        }
        var inputSlots: [Int] = []
        for input in graph.inputs {
            guard let shape = inputShapes[input.name] else {
                throw GraphError.missingGraphInput(input.name, available: graph.inputs.map(\.name))
            }
            inputSlots.append(add(input.name, TensorType(input.elementType ?? .float32, shape)))
        }
        for (name, tensor) in graph.initializers.sorted(by: { $0.key < $1.key }) where slots[name] == nil {
            let s = add(name, TensorType(tensor.elementType, tensor.shape))
            constants[s] = tensor
        }
        var steps: [Step] = []
        var producer: [Int: Int] = [:]
        var folded: Set<Int> = []
        let initializerNames = Set(graph.initializers.keys)
        for node in graph.nodes {
            let type = try OperatorRegistry.type(for: node, opset: graph.opsetVersion)
            var inputIDs: [Int?] = []
            for input in node.inputs {
                if input.isEmpty { inputIDs.append(nil); continue }
                guard let s = slots[input] else { throw GraphError.undefinedValue(node: node.displayName, value: input) }
                inputIDs.append(s)
            }
            let context = OperatorContext(
                node: node, opset: graph.opsetVersion,
                inputTypes: inputIDs.map { $0.map { types[$0] } },
                constants: inputIDs.map { $0.flatMap { constants[$0] } })
            let op: any Operator
            do { op = try type.init(context) } catch GraphError.invalidInput(let name, let opType, let reason) {
                throw GraphError.invalidInput(node: name, opType: opType, reason: reason + Self.chosenSizesHint(graph, inputShapes))
            }
            // Absurd pads, strides or shape constants give negative or gigantic shapes: refuse them before allocating.
            for t in op.outputTypes where Tensor.checkedCount(of: t.shape) == nil {
                throw GraphError.invalidInput(node: node.displayName, opType: node.opType,
                                              reason: "its inferred output shape \(t.shape) is negative or larger than \(Tensor.maximumElementCount) elements")
            }
            guard op.outputTypes.count >= node.outputs.filter({ !$0.isEmpty }).count else {
                throw GraphError.invalidInput(node: node.displayName, opType: node.opType,
                                              reason: "has \(node.outputs.count) outputs but the operator produces \(op.outputTypes.count)")
            }
            let allConstant = inputIDs.allSatisfy { $0.map { constants[$0] != nil } ?? true }
            let readsWeight = zip(node.inputs, inputIDs).contains { name, s in
                guard let s, initializerNames.contains(name) else { return false }
                return types[s].elementType == .float32
            }
            if !type.needsInputValues || (allConstant && !readsWeight) {
                let values = try op.run(context.constants)
                for (i, output) in node.outputs.enumerated() where !output.isEmpty {
                    guard i < values.count, values[i].shape == op.outputTypes[i].shape,
                          values[i].elementType == op.outputTypes[i].elementType else {
                        throw GraphError.invalidInput(node: node.displayName, opType: node.opType,
                                                      reason: "folding at load time produced no value of type \(op.outputTypes[i]) for output #\(i)")
                    }
                    let s = add(output, op.outputTypes[i])
                    constants[s] = values[i]
                    folded.insert(s)
                }
                continue
            }
            var outputIDs: [Int] = []
            for (i, output) in node.outputs.enumerated() where !output.isEmpty {
                let s = add(output, op.outputTypes[i])
                producer[s] = steps.count
                outputIDs.append(s)
            }
            // Omitted trailing outputs keep their position with a placeholder slot of -1.
            var aligned = [Int](repeating: -1, count: node.outputs.count)
            var k = 0
            for (i, output) in node.outputs.enumerated() where !output.isEmpty { aligned[i] = outputIDs[k]; k += 1 }
            steps.append(Step(node: node, op: op, inputs: inputIDs, outputs: aligned))
        }
        var outputSlots: [Int] = []
        for output in graph.outputs {
            guard let s = slots[output.name] else { throw GraphError.unknownValue(output.name) }
            outputSlots.append(s)
        }
        var lastUse = [Int](repeating: -1, count: names.count)
        for (i, step) in steps.enumerated() {
            for case let s? in step.inputs { lastUse[s] = i }
        }
        for s in outputSlots { lastUse[s] = Int.max }
        self.valueNames = names
        self.valueTypes = types
        self.slots = slots
        self.steps = steps
        self.constants = constants
        self.foldedSlots = folded
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        self.lastUse = lastUse
        self.producer = (0..<names.count).map { producer[$0] }
        self.channelBlocking = ChannelBlockingCache()
    }

    /// Whether a value was computed at compile time from shapes and constants (its node has no step).
    public func isFolded(_ name: String) -> Bool { slots[name].map(foldedSlots.contains) ?? false }

    /// The compiled nodes in execution order, with their input and output types (folded nodes are not listed).
    public var nodes: [(node: Node, inputTypes: [TensorType?], outputTypes: [TensorType])] {
        steps.map { step in
            (step.node, step.inputs.map { $0.map { valueTypes[$0] } }, step.op.outputTypes)
        }
    }

    /// The type of a named value.
    public func type(of name: String) -> TensorType? { slots[name].map { valueTypes[$0] } }

    /// The constant value of a name (an initializer or a value folded at compile time), if it is one.
    public func constant(named name: String) -> Tensor? { slots[name].flatMap { constants[$0] } }
}

extension ExecutionPlan {
    /// " (inputs: ids [2, 600], …; does the model accept these sizes?)" when some input's non-batch size is the
    /// caller's choice (symbolic in the model, as a transformer's sequence length): a shape error inside the model may
    /// then be the size's fault (more tokens than position embeddings). Empty otherwise.
    static func chosenSizesHint(_ graph: Graph, _ inputShapes: [String: [Int]]) -> String {
        let chosen = graph.inputs.contains { input in
            input.shape?.dropFirst().contains { if case .symbolic = $0 { true } else { false } } ?? false
        }
        guard chosen else { return "" }
        let sizes = graph.inputs.map { "\($0.name) \(inputShapes[$0.name] ?? [])" }.joined(separator: ", ")
        return " (inputs: \(sizes); does the model accept these sizes?)"
    }
}
