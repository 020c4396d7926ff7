/// The timed phases of a plan, as plan.json's `seconds` names them.
public enum PlanPhase: String, Sendable, Codable, CaseIterable {
    case sensitivities
    /// The ILP's proposals at the plan's budget, measured.
    case proposals
    /// Uniform-precision points.
    case uniform
    /// The Pareto sweep's proposals, measured.
    case pareto
    /// The chosen plan's steps (measured again unless kept from its first measurement).
    case chosen
    case refinement
    /// The greedy baseline, measured.
    case greedy
}
