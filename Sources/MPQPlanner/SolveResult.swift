/// The outcome of solving an integer program.
public enum SolveResult: Sendable, Equatable {
    /// A proven optimum: the objective (including the constant) and one value per variable.
    case optimal(objective: Double, values: [Double])
    /// A feasible but not proven optimal solution (time limit or gap tolerance reached).
    case feasible(objective: Double, values: [Double], reason: String)
    /// No assignment satisfies the constraints.
    case infeasible
    /// The objective can improve without limit.
    case unbounded
    /// The program was invalid or GLPK failed.
    case error(PlannerError)

    /// The objective and values of an optimal or feasible result.
    public var solution: (objective: Double, values: [Double])? {
        switch self {
        case .optimal(let o, let v), .feasible(let o, let v, _): return (o, v)
        default: return nil
        }
    }
}

/// Options for `GLPKSolver.solve`.
public struct SolverOptions: Sendable, Equatable {
    /// Wall-clock limit in seconds; nil for none.
    public var timeLimit: Double?
    /// Stop once the relative gap between the best solution and the bound falls below this; nil for 0.
    public var relativeGap: Double?

    public init(timeLimit: Double? = nil, relativeGap: Double? = nil) {
        self.timeLimit = timeLimit
        self.relativeGap = relativeGap
    }
}
