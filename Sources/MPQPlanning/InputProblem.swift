/// Input data or files that do not fit the model or the request (missing inputs, wrong sample counts,
/// a loss that needs labels without them).
public struct InputProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
