/// Result of a one-dimensional minimisation.
public struct ScalarMinimum: Sendable, Equatable {
    /// The abscissa of the best point found.
    public var x: Double
    /// f(x).
    public var value: Double
    /// Objective evaluations made by the call that produced this result
    /// (including bracketing when the call bracketed).
    public var evaluations: Int
    /// Iterations of the main loop (Brent / bounded Brent); 0 when the bracket was unusable.
    public var iterations: Int
    /// False when the iteration/evaluation limit was hit or the bracket was invalid.
    public var converged: Bool

    public init(x: Double, value: Double, evaluations: Int, iterations: Int, converged: Bool) {
        self.x = x
        self.value = value
        self.evaluations = evaluations
        self.iterations = iterations
        self.converged = converged
    }
}
