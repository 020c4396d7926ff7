import MPQGraph

/// Value and node names not yet used in a graph.
struct FreshNames {
    private var used: Set<String>

    init(_ graph: Graph) {
        used = Set(graph.nodes.flatMap(\.outputs)).union(graph.nodes.map(\.name)).union(graph.initializers.keys)
            .union(graph.inputs.map(\.name))
    }

    /// `base`, or `base_1`, `base_2`, … when taken; the name is then taken.
    mutating func fresh(_ base: String) -> String {
        var name = base, i = 1
        while used.contains(name) { name = "\(base)_\(i)"; i += 1 }
        used.insert(name)
        return name
    }
}
