/// A computation graph: nodes over named values, constant initializers, and declared inputs and outputs.
///
/// Nodes are kept in topological order once `sortTopologically()` has run (the importer does it).
public struct Graph: Sendable {
    public var name: String
    public var nodes: [Node]
    /// Constant tensors by value name (weights, biases, shape constants).
    public var initializers: [String: Tensor]
    /// Graph inputs that are not initializers, in declaration order.
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// The default-domain operator set version the graph was written against.
    public var opsetVersion: Int

    public init(name: String = "graph", nodes: [Node], initializers: [String: Tensor] = [:],
                inputs: [ValueInfo], outputs: [ValueInfo], opsetVersion: Int) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.opsetVersion = opsetVersion
    }

    /// For each value name, the indices of the nodes that read it.
    public func consumers() -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty {
                result[input, default: []].append(i)
            }
        }
        return result
    }

    /// For each value name, the index of the node that produces it.
    public func producers() -> [String: Int] {
        var result: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { result[output] = i }
        }
        return result
    }

    /// Reorders nodes so every node comes after the producers of its inputs.
    ///
    /// Throws when a node reads a value nothing defines, or when the graph has a cycle.
    public mutating func sortTopologically() throws {
        let producers = producers()
        var defined = Set(initializers.keys).union(inputs.map(\.name))
        defined.insert("")
        var indegree = [Int](repeating: 0, count: nodes.count)
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            for input in Set(node.inputs) where !defined.contains(input) {
                guard let p = producers[input] else {
                    throw GraphError.undefinedValue(node: node.displayName, value: input)
                }
                indegree[i] += 1
                dependents[p].append(i)
            }
        }
        // Kahn's algorithm, taking ready nodes in their original order for stable results.
        var ready = indegree.indices.filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            var released: [Int] = []
            for d in dependents[i] {
                indegree[d] -= 1
                if indegree[d] == 0 { released.append(d) }
            }
            ready.append(contentsOf: released.sorted().reversed())
            ready.sort(by: >)
        }
        guard order.count == nodes.count else {
            let stuck = indegree.indices.filter { indegree[$0] > 0 }.map { nodes[$0].displayName }
            throw GraphError.cycle(nodes: stuck)
        }
        nodes = order.map { nodes[$0] }
    }
}
