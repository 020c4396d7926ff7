/// Settings of ``BOBYQAMinimizer``.
public struct BOBYQAOptions: Sendable {
    /// Box bounds (BOBYQA needs finite bounds).
    public enum Bounds: Sendable, Equatable {
        /// For positive scale parameters such as clipping values: [lowerFactor·x0, upperFactor·x0]
        /// per variable (default [0.2·x0, 5·x0]). Every x0 component must be positive and finite.
        case scaleParameters(lowerFactor: Double = 0.2, upperFactor: Double = 5)
        /// Caller-given bounds, one per variable; x0 must lie inside them.
        case explicit(lower: [Double], upper: [Double])
    }

    /// Initial trust-region step per variable.
    public enum InitialStep: Sendable, Equatable {
        /// NLopt's own heuristic (based on the bounds and x0).
        case nloptDefault
        /// fraction·|x0_i| (or fraction where x0_i is 0).
        case relative(Double)
        /// Absolute steps, one per variable.
        case absolute([Double])
    }

    /// Bounds; default ``Bounds/scaleParameters(lowerFactor:upperFactor:)`` with 0.2 and 5.
    public var bounds: Bounds = .scaleParameters()
    /// Initial step; default NLopt's heuristic.
    public var initialStep: InitialStep = .nloptDefault
    /// Evaluation budget; nil means 1000·N (like Powell's default). 0 or less is rejected.
    public var maxEvaluations: Int?
    /// NLopt `xtol_rel` (0 disables). Default 1e-8.
    public var xtolRel: Double = 1e-8
    /// NLopt `ftol_rel` (0 disables). Default 1e-10.
    public var ftolRel: Double = 1e-10
    /// NLopt `ftol_abs` (0 disables). Default disabled.
    public var ftolAbs: Double = 0
    /// Stop as soon as f ≤ stopValue (NLopt `stopval`); nil disables.
    public var stopValue: Double?

    public init(bounds: Bounds = .scaleParameters(), initialStep: InitialStep = .nloptDefault,
                maxEvaluations: Int? = nil, xtolRel: Double = 1e-8, ftolRel: Double = 1e-10,
                ftolAbs: Double = 0, stopValue: Double? = nil) {
        self.bounds = bounds
        self.initialStep = initialStep
        self.maxEvaluations = maxEvaluations
        self.xtolRel = xtolRel
        self.ftolRel = ftolRel
        self.ftolAbs = ftolAbs
        self.stopValue = stopValue
    }

    /// Resolves the bounds for a start point.
    public func resolvedBounds(for x0: [Double]) throws(OptimizationError) -> (lower: [Double], upper: [Double]) {
        switch bounds {
        case .scaleParameters(let lowerFactor, let upperFactor):
            guard x0.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw .invalidArguments("scaleParameters bounds need positive, finite start values")
            }
            guard lowerFactor > 0, lowerFactor < 1, upperFactor > 1 else {
                throw .invalidArguments("scaleParameters bounds need 0 < lowerFactor < 1 < upperFactor")
            }
            return (x0.map { lowerFactor * $0 }, x0.map { upperFactor * $0 })
        case .explicit(let lower, let upper):
            guard lower.count == x0.count, upper.count == x0.count else {
                throw .invalidArguments("expected \(x0.count) lower and upper bounds")
            }
            for i in x0.indices where !(lower[i] <= x0[i] && x0[i] <= upper[i]) {
                throw .invalidArguments("x0[\(i)] = \(x0[i]) is outside [\(lower[i]), \(upper[i])]")
            }
            return (lower, upper)
        }
    }
}
