import MPQGraph

/// The element type and concrete shape of a value, known once the graph is compiled for an input shape.
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
    public var elementType: ElementType
    public var shape: [Int]

    public init(_ elementType: ElementType, _ shape: [Int]) {
        self.elementType = elementType
        self.shape = shape
    }

    public var count: Int { Tensor.count(of: shape) }
    public var description: String { "\(elementType)[\(shape.map(String.init).joined(separator: "×"))]" }
}

/// What an operator sees when it is compiled: its node, the opset, its input types, and the
/// input values already known before execution (initializers and folded constants).
public struct OperatorContext {
    public let node: Node
    /// Version of the default ONNX operator set the model imports.
    public let opset: Int
    /// One entry per node input; nil for an omitted optional input.
    public let inputTypes: [TensorType?]
    /// One entry per node input; the value when it is a constant, else nil.
    public let constants: [Tensor?]

    public init(node: Node, opset: Int, inputTypes: [TensorType?], constants: [Tensor?]) {
        self.node = node
        self.opset = opset
        self.inputTypes = inputTypes
        self.constants = constants
    }

    /// The type of a required input, or an error naming the node.
    public func inputType(_ index: Int) throws -> TensorType {
        guard index < inputTypes.count, let t = inputTypes[index] else {
            throw GraphError.invalidInput(node: node.displayName, opType: node.opType,
                                          reason: "required input #\(index) is missing")
        }
        return t
    }

    /// Whether the optional input at `index` is present.
    public func hasInput(_ index: Int) -> Bool { index < inputTypes.count && inputTypes[index] != nil }

    /// A constant input, or an error saying the operator needs it to be constant.
    public func constant(_ index: Int, what: String) throws -> Tensor {
        guard index < constants.count, let t = constants[index] else {
            throw GraphError.invalidInput(node: node.displayName, opType: node.opType,
                                          reason: "\(what) (input #\(index)) must be a constant or computable from constants at load time")
        }
        return t
    }

    /// An error about this node's inputs or attributes.
    public func invalid(_ reason: String) -> GraphError {
        GraphError.invalidInput(node: node.displayName, opType: node.opType, reason: reason)
    }
}

/// A compiled operator: attributes parsed and shapes inferred once, then run many times.
///
/// `init(_:)` validates the node for its input types and fixes the output types; `run` must then
/// accept inputs of exactly those types (aligned with the node's inputs, nil where omitted) and
/// return one tensor per node output.
public protocol Operator: Sendable {
    init(_ context: OperatorContext) throws
    var outputTypes: [TensorType] { get }
    func run(_ inputs: [Tensor?]) throws -> [Tensor]
    /// False for operators whose outputs depend only on their input types (Shape, Size): the
    /// plan evaluates them at compile time, passing nil for inputs that are not constants.
    static var needsInputValues: Bool { get }
    /// The input whose storage the first output may reuse (same element type and shape), or nil.
    /// A run loop that no longer needs that input after this node can hand it over through
    /// `run(consuming:)`: the operator then writes its result into the input's buffer instead of
    /// a fresh allocation (element-wise ops: no page faults, one stream less).
    var inPlaceInput: Int? { get }
    /// `run` when the caller gives up its references to `inputs`. When the `inPlaceInput` tensor's
    /// storage is then uniquely referenced, the result is computed into it; otherwise this is `run`.
    /// Results are identical either way.
    func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor]
}

extension Operator {
    public static var needsInputValues: Bool { true }
    public var inPlaceInput: Int? { nil }
    public func run(consuming inputs: consuming [Tensor?]) throws -> [Tensor] { try run(inputs) }
}

extension Tensor {
    /// Moves the float storage out of `slot` (leaving nil), so that a caller holding no other
    /// reference gets uniquely referenced storage it may mutate without a copy.
    static func takeFloats(_ slot: inout Tensor?) -> [Float]? {
        guard let t = slot, case .float = t.storage else { return nil }
        slot = nil
        guard case .float(let v) = t.storage else { return nil }
        return v
    }
}
