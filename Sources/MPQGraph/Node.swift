/// One operator application in a graph.
///
/// Inputs and outputs are value names; an empty input name marks an omitted optional input,
/// as in ONNX.
public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    /// Operator-set domain; "" is the default ONNX domain.
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// A name to show in messages: the node name, or its first output when unnamed.
    public var displayName: String {
        name.isEmpty ? "\(opType) -> \(outputs.first ?? "?")" : name
    }
}
