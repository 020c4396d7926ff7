import MPQGraph
import MPQKernels

/// GELU fusion: the five element-wise nodes exporters write for the exact GELU,
/// `x · ½ · (1 + erf(x / √2))` (Div, Erf, Add, Mul, Mul), become one `Gelu` node of the internal
/// domain `ai.mpq`, evaluated in one pass (`MPQKernels.ErfGelu`). In MiniLM these five passes over
/// each 8×128×1536 activation were a fifth of the forward pass.
///
/// The fused node records the graph's own constants and how its products are grouped (attributes
/// `argument_op` "Div"/"Mul", `argument`, `offset`, `half`, `grouping`), so results are bit-identical
/// to the unfused nodes. Only the intermediates vanish; GELU's input and output stay values of the graph,
/// and the quantization policy, which never quantizes the intermediates, picks the same tensors.
/// Exporters write the five standard nodes back with `GraphOptimizer.unfuse`.
extension GraphOptimizer {
    /// Fuses erf-form GELUs; returns how many were fused.
    func fuseGelus(_ graph: inout Graph) throws -> Int {
        let links = ValueLinks(graph)
        var removeNodes = Set<Int>()
        var fused = 0
        /// The only reader of `value` (index and node), when it is internal and read once.
        func onlyReader(_ value: String) -> (Int, Node)? {
            guard let reader = links.soleReader(of: value, excluding: removeNodes) else { return nil }
            let node = graph.nodes[reader]
            return node.domain.isEmpty && node.outputs.count == 1 ? (reader, node) : nil
        }
        /// `node`'s operand other than `value`, when `node` reads `value` exactly once.
        func other(_ node: Node, than value: String) -> String? {
            guard node.inputs.count == 2, node.inputs.filter({ $0 == value }).count == 1 else { return nil }
            return node.inputs[0] == value ? node.inputs[1] : node.inputs[0]
        }
        func scalar(_ name: String?) -> Float? {
            guard let name, let t = graph.initializers[name], t.elementType == .float32, t.count == 1 else { return nil }
            return t.asFloats.first
        }
        for (erfIndex, erf) in graph.nodes.enumerated() where erf.opType == "Erf" && erf.domain.isEmpty {
            guard erf.inputs.count == 1, erf.outputs.count == 1, let argIndex = links.producers[erf.inputs[0]],
                  !removeNodes.contains(argIndex), onlyReader(erf.inputs[0])?.0 == erfIndex else { continue }
            let arg = graph.nodes[argIndex]
            guard arg.domain.isEmpty, arg.inputs.count == 2, let x = arg.inputs.first, !x.isEmpty,
                  graph.initializers[x] == nil else { continue }
            let divides: Bool, constant: Float
            switch arg.opType {
            case "Div": guard let c = scalar(arg.inputs[1]) else { continue }; divides = true; constant = c
            case "Mul": guard let c = scalar(arg.inputs[1]) else { continue }; divides = false; constant = c
            default: continue
            }
            guard let (addIndex, add) = onlyReader(erf.outputs[0]), add.opType == "Add",
                  let offset = scalar(other(add, than: erf.outputs[0])),
                  let (firstIndex, first) = onlyReader(add.outputs[0]), first.opType == "Mul",
                  let firstOperand = other(first, than: add.outputs[0]) else { continue }
            var grouping: ErfGelu.Grouping, half: Float, nodes: [Int], output: String
            if firstOperand == x {
                // (x · a) · h
                guard let (lastIndex, last) = onlyReader(first.outputs[0]), last.opType == "Mul",
                      let h = scalar(other(last, than: first.outputs[0])) else { continue }
                (grouping, half, nodes, output) = (.inputTimesSumFirst, h, [firstIndex, lastIndex], last.outputs[0])
            } else if let h = scalar(firstOperand) {
                // x · (a · h)
                guard let (lastIndex, last) = onlyReader(first.outputs[0]), last.opType == "Mul",
                      other(last, than: first.outputs[0]) == x else { continue }
                (grouping, half, nodes, output) = (.sumTimesHalfFirst, h, [firstIndex, lastIndex], last.outputs[0])
            } else if let halfIndex = links.producers[firstOperand], !removeNodes.contains(halfIndex),
                      onlyReader(firstOperand)?.0 == firstIndex, graph.nodes[halfIndex].opType == "Mul",
                      graph.nodes[halfIndex].domain.isEmpty, other(graph.nodes[halfIndex], than: x) != nil,
                      let h = scalar(other(graph.nodes[halfIndex], than: x)) {
                // (x · h) · a
                (grouping, half, nodes, output) = (.inputTimesHalfFirst, h, [halfIndex, firstIndex], first.outputs[0])
            } else { continue }
            let gelu = ErfGelu(dividesArgument: divides, argumentConstant: constant, offset: offset, half: half, grouping: grouping)
            let last = nodes.max()!
            graph.nodes[last] = Node(name: Self.fusedName(graph.nodes[last], erf), opType: "Gelu", domain: Self.internalDomain,
                                     inputs: [x], outputs: [output], attributes: gelu.attributes)
            removeNodes.formUnion([argIndex, erfIndex, addIndex] + nodes.filter { $0 != last })
            fused += 1
        }
        graph.removeNodes(at: removeNodes)
        return fused
    }

    /// A fused node's name: the Erf's with "Gelu" for "Erf" (".../act_fn/Erf" → ".../act_fn/Gelu"), else the last node's.
    private static func fusedName(_ last: Node, _ erf: Node) -> String {
        guard let r = erf.name.range(of: "Erf", options: .backwards) else { return last.name }
        return erf.name.replacingCharacters(in: r, with: "Gelu")
    }

    /// The inverse of GELU fusion: each internal `Gelu` node becomes the standard Div (or Mul), Erf, Add, Mul,
    /// Mul it was fused from, with its constants as initializers.
    static func unfuseGelus(_ input: Graph) -> Graph {
        var graph = input
        var names = FreshNames(graph)
        var nodes: [Node] = []
        for node in graph.nodes {
            guard node.domain == internalDomain, node.opType == "Gelu", let gelu = ErfGelu(node.attributes),
                  let x = node.inputs.first, let y = node.outputs.first else { nodes.append(node); continue }
            let base = node.name.isEmpty ? y : node.name
            func constant(_ suffix: String, _ value: Float) -> String {
                let name = names.fresh(y + "_" + suffix)
                graph.initializers[name] = Tensor.scalar(value)
                return name
            }
            func value(_ suffix: String) -> String { names.fresh(y + "_" + suffix) }
            func op(_ type: String, _ suffix: String, _ inputs: [String], _ output: String) {
                nodes.append(Node(name: names.fresh(base + "/" + suffix), opType: type, inputs: inputs, outputs: [output]))
            }
            let (t, e, a) = (value("erf_argument"), value("erf"), value("erf_plus_offset"))
            op(gelu.dividesArgument ? "Div" : "Mul", "argument", [x, constant("argument", gelu.argumentConstant)], t)
            op("Erf", "erf", [t], e)
            op("Add", "offset", [e, constant("offset", gelu.offset)], a)
            let h = constant("half", gelu.half), p = value("product")
            switch gelu.grouping {
            case .inputTimesSumFirst: op("Mul", "product", [x, a], p); op("Mul", "half", [p, h], y)
            case .sumTimesHalfFirst: op("Mul", "half", [a, h], p); op("Mul", "product", [x, p], y)
            case .inputTimesHalfFirst: op("Mul", "half", [x, h], p); op("Mul", "product", [p, a], y)
            }
        }
        graph.nodes = nodes
        return graph
    }
}

extension ErfGelu {
    /// The fused node's attributes.
    var attributes: [String: Attribute] {
        ["argument_op": .string(dividesArgument ? "Div" : "Mul"), "argument": .float(argumentConstant),
         "offset": .float(offset), "half": .float(half), "grouping": .int(grouping.rawValue)]
    }

    /// The parameters of a fused node, nil when an attribute is missing or malformed.
    init?(_ attributes: [String: Attribute]) {
        guard case .string(let op)? = attributes["argument_op"], op == "Div" || op == "Mul",
              case .float(let c)? = attributes["argument"], case .float(let k)? = attributes["offset"],
              case .float(let h)? = attributes["half"], case .int(let g)? = attributes["grouping"],
              let grouping = Grouping(rawValue: g) else { return nil }
        self.init(dividesArgument: op == "Div", argumentConstant: c, offset: k, half: h, grouping: grouping)
    }
}
