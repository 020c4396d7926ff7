/// Errors about a graph's structure or a node's attributes and inputs.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    case missingAttribute(node: String, opType: String, attribute: String)
    case attributeKind(node: String, attribute: String, expected: String, found: String)
    case invalidAttribute(node: String, attribute: String, reason: String)
    case invalidInput(node: String, opType: String, reason: String)
    case undefinedValue(node: String, value: String)
    case duplicateValue(String)
    case cycle(nodes: [String])
    case unsupportedOperator(node: String, opType: String, domain: String, opset: Int, supported: [String])
    case shapeMismatch(node: String, opType: String, reason: String)
    case missingGraphInput(String, available: [String])
    case unknownValue(String)

    public var description: String {
        switch self {
        case let .missingAttribute(node, opType, attribute):
            return "node '\(node)' (\(opType)) is missing required attribute '\(attribute)'"
        case let .attributeKind(node, attribute, expected, found):
            return "node '\(node)': attribute '\(attribute)' should be \(expected), found \(found)"
        case let .invalidAttribute(node, attribute, reason):
            return "node '\(node)': attribute '\(attribute)' \(reason)"
        case let .invalidInput(node, opType, reason):
            return "node '\(node)' (\(opType)): \(reason)"
        case let .undefinedValue(node, value):
            return "node '\(node)' reads '\(value)', which no node, initializer or graph input defines"
        case let .duplicateValue(value):
            return "value '\(value)' is defined more than once"
        case let .cycle(nodes):
            return "the graph has a cycle through nodes \(nodes.prefix(5).joined(separator: ", "))"
        case let .unsupportedOperator(node, opType, domain, opset, supported):
            let d = domain.isEmpty ? "" : "\(domain)."
            return "node '\(node)': operator \(d)\(opType) (opset \(opset)) is not supported; supported operators: \(supported.sorted().joined(separator: ", "))"
        case let .shapeMismatch(node, opType, reason):
            return "node '\(node)' (\(opType)): \(reason)"
        case let .missingGraphInput(name, available):
            return "no data for model input '\(name)'; the model's inputs are: \(available.joined(separator: ", "))"
        case let .unknownValue(name):
            return "the graph has no value named '\(name)'"
        }
    }
}
