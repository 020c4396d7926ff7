extension IntegerProgram {
    /// GLPK's limits on rows and columns (M_MAX / N_MAX in its sources).
    public static let maximumRows = 100_000_000
    public static let maximumColumns = 100_000_000

    /// Checks every count, index, coefficient and bound GLPK would otherwise abort on (or misread).
    public func validate() throws {
        guard variables.count <= IntegerProgram.maximumColumns else {
            throw PlannerError.tooLarge(what: "variables", count: variables.count, limit: IntegerProgram.maximumColumns)
        }
        guard constraints.count <= IntegerProgram.maximumRows else {
            throw PlannerError.tooLarge(what: "constraints", count: constraints.count, limit: IntegerProgram.maximumRows)
        }
        guard objectiveConstant.isFinite else {
            throw PlannerError.nonFiniteValue(location: "the objective constant", value: objectiveConstant)
        }
        for (j, v) in variables.enumerated() {
            let where_ = "variable \(PlannerError.label(j, v.name))"
            guard v.objective.isFinite else { throw PlannerError.nonFiniteValue(location: "the objective coefficient of \(where_)", value: v.objective) }
            if let lo = v.lowerBound, lo.isNaN || lo == .infinity { throw PlannerError.nonFiniteValue(location: "the lower bound of \(where_)", value: lo) }
            if let hi = v.upperBound, hi.isNaN || hi == -.infinity { throw PlannerError.nonFiniteValue(location: "the upper bound of \(where_)", value: hi) }
            let b = v.effectiveBounds
            if let lo = b.lower, let hi = b.upper, lo > hi { throw PlannerError.invalidBounds(location: where_, lower: lo, upper: hi) }
            if v.kind != .continuous {
                for bound in [b.lower, b.upper].compactMap({ $0 }) where bound != bound.rounded() {
                    throw PlannerError.invalidIntegerBound(variable: j, variableName: v.name, value: bound)
                }
            }
            if v.kind == .binary {
                for bound in [b.lower, b.upper].compactMap({ $0 }) where bound < 0 || bound > 1 {
                    throw PlannerError.invalidIntegerBound(variable: j, variableName: v.name, value: bound)
                }
            }
        }
        for (i, c) in constraints.enumerated() { try validate(c, at: i) }
    }

    /// Checks one row as if it were row `i` of this program: finite bounds in order, and distinct, in-range
    /// variable indices with finite coefficients.
    public func validate(_ c: Constraint, at i: Int) throws {
        let where_ = "constraint \(PlannerError.label(i, c.name))"
        if let lo = c.lowerBound, lo.isNaN || lo == .infinity { throw PlannerError.nonFiniteValue(location: "the lower bound of \(where_)", value: lo) }
        if let hi = c.upperBound, hi.isNaN || hi == -.infinity { throw PlannerError.nonFiniteValue(location: "the upper bound of \(where_)", value: hi) }
        let b = c.effectiveBounds
        if let lo = b.lower, let hi = b.upper, lo > hi { throw PlannerError.invalidBounds(location: where_, lower: lo, upper: hi) }
        var seen = Set<Int>()
        for t in c.terms {
            guard t.variable >= 0, t.variable < variables.count else {
                throw PlannerError.invalidVariableIndex(constraint: i, constraintName: c.name, index: t.variable, variableCount: variables.count)
            }
            guard seen.insert(t.variable).inserted else {
                throw PlannerError.duplicateVariableInConstraint(constraint: i, constraintName: c.name, variable: t.variable)
            }
            guard t.coefficient.isFinite else {
                throw PlannerError.nonFiniteValue(location: "the coefficient of variable \(t.variable) in \(where_)", value: t.coefficient)
            }
        }
    }
}
