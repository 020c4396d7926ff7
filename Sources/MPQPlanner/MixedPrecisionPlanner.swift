/// Chooses one candidate per group minimising the summed sensitivity under any number of budgets, with an
/// integer program (binary x[g,c], one per group, equal choices across tied groups, one <= row per budget)
/// solved by GLPK.
public struct MixedPrecisionPlanner: Sendable {
    public let model: CostModel
    public var problem: PlanningProblem { model.problem }
    /// How to choose among plans whose predicted losses are practically equal; nil: the loss optimum alone.
    public var tieBreak: TieBreak?

    /// A second, lexicographic objective: among plans whose predicted loss is within `relativeTolerance`
    /// of the optimum, the one with the lowest `cost`.
    ///
    /// Sensitivities are measured one group at a time, and differences far below the measured loss of a
    /// whole plan are not resolved by them (interactions between quantizers are larger). Without a tie-break
    /// the ILP spends what a budget does not price (e.g. activation bits under a weight-bits budget) on such
    /// differences; with it, the plan is as cheap as possible on the other axis at an equal predicted loss.
    public struct TieBreak: Sendable, Equatable {
        public var cost: CostKind
        public var relativeTolerance: Double
        /// The cost minimisation may stop once its plan is within this fraction of the best bound (nil: exact).
        public var relativeGap: Double?
        /// ... or after this many seconds with its best plan so far (nil: no limit).
        public var timeLimit: Double?

        public init(cost: CostKind = .bops, relativeTolerance: Double = 0.01, relativeGap: Double? = 0.001, timeLimit: Double? = 2) {
            self.cost = cost
            self.relativeTolerance = relativeTolerance
            self.relativeGap = relativeGap
            self.timeLimit = timeLimit
        }
    }

    /// Validates the problem against the profile and precomputes every cost.
    public init(problem: PlanningProblem, profile: HardwareProfile) throws {
        model = try CostModel(problem: problem, profile: profile)
    }

    public init(model: CostModel) {
        self.model = model
    }

    /// The best plan under `budgets` (none: the least sensitive candidate everywhere).
    /// Throws `PlanningError.infeasible` with the cheapest achievable value of every budget when none fits.
    public func plan(budgets: [BudgetConstraint], options: SolverOptions = SolverOptions()) throws -> Plan {
        let (limits, shortfalls) = try checkedLimits(budgets)
        let (program, variables) = buildProgram(limits: limits)
        switch GLPKSolver.solve(program, options: options) {
        case .optimal(_, let values):
            let best = Plan(assignment: decode(values, variables), model: model, provenOptimal: true)
            guard let tieBreak, model.supports(tieBreak.cost) else { return best }
            return breakTie(best, program: program, variables: variables, tieBreak: tieBreak, options: options)
        case .feasible(_, let values, _):
            return Plan(assignment: decode(values, variables), model: model, provenOptimal: false)
        case .infeasible:
            throw PlanningError.infeasible(shortfalls: shortfalls, jointly: true)
        case .unbounded:
            throw PlanningError.solverFailed("GLPK reported an unbounded problem, which a 0-1 program cannot be")
        case .error(let e):
            throw PlanningError.solverFailed(e.description)
        }
    }

    /// Every budget's limit in reported units, and how far each is from the cheapest achievable value.
    /// Throws `PlanningError.infeasible` when some budget alone cannot be met.
    func checkedLimits(_ budgets: [BudgetConstraint]) throws -> (limits: [(CostKind, Double)], shortfalls: [BudgetShortfall]) {
        let limits = try budgets.map { ($0, try $0.limit(in: model)) }
        let shortfalls = limits.map { budget, limit in
            BudgetShortfall(budget: budget.text, kind: budget.kind, limit: limit, cheapestAchievable: cheapest(budget.kind).value)
        }
        if shortfalls.contains(where: { !$0.isMet }) {
            throw PlanningError.infeasible(shortfalls: shortfalls.filter { !$0.isMet }, jointly: false)
        }
        return (limits.map { ($0.0.kind, $0.1) }, shortfalls)
    }

    /// Re-solves with the tie-break cost as objective and the loss bounded by `best`'s plus the tolerance;
    /// keeps `best` when that fails or costs no less. `program` is `buildProgram`'s (objective in its scaled units).
    func breakTie(_ best: Plan, program: IntegerProgram, variables: VariableMap,
                  tieBreak: TieBreak, options: SolverOptions) -> Plan {
        var second = program
        // `best`'s loss in the program's objective units.
        let loss = best.assignment.enumerated().reduce(program.objectiveConstant) { sum, gc in
            sum + (variables[gc.offset][gc.element].map { program.variables[$0].objective } ?? 0)
        }
        var lossTerms: [IntegerProgram.Term] = []
        let scale = max(model.value(tieBreak.cost, assignment: best.assignment) * model.normalizer(tieBreak.cost), 1e-30)
        for g in problem.groups.indices {
            for c in problem.candidates.indices {
                guard let column = variables[g][c] else { continue }
                lossTerms.append(.init(column, second.variables[column].objective))
                // Normalised so the objective is O(1) whatever the cost's units.
                second.variables[column].objective = model.cost(tieBreak.cost, group: g, candidate: c) / scale
            }
        }
        let allowance = abs(loss) * tieBreak.relativeTolerance + 1e-12
        second.addConstraint(.lessOrEqual(lossTerms, loss + allowance, name: "predicted loss within the tie tolerance"))
        // Minimising the cost under a loss bound is much harder for branch-and-cut than minimising the loss (a 200-group
        // program: 2 s instead of 0.02 s), so the search stops within the tie-break's gap and time limit; any plan it
        // returns meets every row, the loss bound included.
        var limited = options
        if let gap = tieBreak.relativeGap { limited.relativeGap = max(limited.relativeGap ?? 0, gap) }
        if let t = tieBreak.timeLimit { limited.timeLimit = min(limited.timeLimit ?? t, t) }
        let values: [Double], proven: Bool
        switch GLPKSolver.solve(second, options: limited) {
        case .optimal(_, let v): (values, proven) = (v, true)
        case .feasible(_, let v, _): (values, proven) = (v, false)
        default: return best
        }
        let candidate = Plan(assignment: decode(values, variables), model: model, provenOptimal: proven)
        let cheaper = model.value(tieBreak.cost, assignment: candidate.assignment) < model.value(tieBreak.cost, assignment: best.assignment)
        return cheaper ? candidate : best
    }

    /// The cheapest value (reported units) any plan reaches for one kind alone, and a plan reaching it
    /// (ties broken by lower sensitivity). Computed directly: each tie component takes its cheapest common candidate.
    public func cheapest(_ kind: CostKind) -> (value: Double, assignment: [Int]) {
        extreme(kind, cheapest: true)
    }

    /// The most expensive value any plan reaches for one kind.
    public func mostExpensive(_ kind: CostKind) -> (value: Double, assignment: [Int]) {
        extreme(kind, cheapest: false)
    }

    private func extreme(_ kind: CostKind, cheapest: Bool) -> (value: Double, assignment: [Int]) {
        var assignment = [Int](repeating: 0, count: problem.groups.count)
        for component in problem.components() {
            let options = problem.componentAllowed(component)
            func key(_ c: Int) -> (Double, Double) {
                let cost = component.reduce(0.0) { $0 + model.cost(kind, group: $1, candidate: c) }
                let loss = component.reduce(0.0) { $0 + (problem.sensitivities[$1][c] ?? 0) }
                return (cheapest ? cost : -cost, loss)
            }
            let best = options.min { key($0) < key($1) }!
            for g in component { assignment[g] = best }
        }
        return (model.value(kind, assignment: assignment), assignment)
    }

    /// Column layout of the program: `variables[g][c]` is the column of x[g,c], nil for a candidate the
    /// group (or its tie component) may not use.
    public typealias VariableMap = [[Int?]]

    /// The 0-1 program for budgets given as (kind, limit in reported units). Every index is checked by
    /// construction (columns exist only for usable candidates) and by `IntegerProgram.validate()` in the solver.
    ///
    /// The objective is the sensitivities divided by the largest of them (`objectiveScale`), so its coefficients are
    /// at most 1: GLPK's tolerances are absolute (1e-7 on reduced costs), and a nearly lossless model's sensitivities
    /// (1e-8 nats, say) would otherwise be ranked only to within that tolerance. Plans report unscaled losses.
    /// For the same reason each budget row is divided by its limit, and a candidate that alone exceeds a budget in
    /// its tie component gets no column: profile rates may span 1e-9 to 1e12, and a row with coefficients of 1e20
    /// turns GLPK's integrality tolerance into a violated budget or a non-optimal plan.
    public func buildProgram(limits: [(CostKind, Double)]) -> (IntegerProgram, VariableMap) {
        var program = IntegerProgram(direction: .minimize)
        var map: VariableMap = problem.groups.map { _ in [Int?](repeating: nil, count: problem.candidates.count) }
        let components = problem.components()
        let scale = objectiveScale
        for component in components {
            let allowed = columnCandidates(component, limits: limits)
            for g in component {
                for c in allowed {
                    map[g][c] = program.addVariable(.binary("x[\(problem.groups[g].name),\(problem.candidates[c].name)]",
                                                            objective: problem.sensitivities[g][c]! / scale))
                }
            }
        }
        for (g, group) in problem.groups.enumerated() {
            let terms = map[g].compactMap { $0.map { IntegerProgram.Term($0, 1) } }
            program.addConstraint(.equal(terms, 1, name: "one candidate for \(group.name)"))
        }
        for component in components where component.count > 1 {
            let first = component[0]
            for g in component.dropFirst() {
                for c in problem.componentAllowed(component) where map[first][c] != nil {
                    program.addConstraint(.equal([.init(map[first][c]!, 1), .init(map[g][c]!, -1)], 0,
                                                 name: "\(problem.groups[g].name) tied to \(problem.groups[first].name) at \(problem.candidates[c].name)"))
                }
            }
        }
        for (kind, limit) in limits {
            var terms: [IntegerProgram.Term] = []
            for g in problem.groups.indices {
                for c in problem.candidates.indices {
                    if let column = map[g][c] { terms.append(.init(column, model.cost(kind, group: g, candidate: c))) }
                }
            }
            let bound = CostKind.withTolerance(limit * model.normalizer(kind))
            let rowScale = bound > 0 ? bound : 1
            // Coefficients below 1e-10 of the bound in all are dropped and taken off the bound instead (as if every
            // one were chosen): GLPK's row and column scaling breaks on a row that spans 1e-20 to 1, and the bound moves
            // by less than the budget's tolerance (1e-9), so a plan at the limit stays feasible and none exceeds it.
            let negligible = 1e-10 / Double(max(terms.count, 1))
            let scaled = terms.map { IntegerProgram.Term($0.variable, $0.coefficient / rowScale) }
            let kept = scaled.filter { abs($0.coefficient) >= negligible }
            let dropped = scaled.reduce(0.0) { abs($1.coefficient) < negligible ? $0 + max($1.coefficient, 0) : $0 }
            program.addConstraint(.lessOrEqual(kept, bound / rowScale - dropped, name: "budget \(kind.rawValue)"))
        }
        return (program, map)
    }

    /// The candidates of a tie component that get columns: its allowed ones, less those whose cost alone (summed over
    /// the component) exceeds a budget, unless that would leave none (then the program is infeasible as it stands).
    func columnCandidates(_ component: [Int], limits: [(CostKind, Double)]) -> [Int] {
        let allowed = problem.componentAllowed(component)
        let fitting = allowed.filter { c in
            limits.allSatisfy { kind, limit in
                component.reduce(0) { $0 + model.cost(kind, group: $1, candidate: c) } <= CostKind.withTolerance(limit * model.normalizer(kind))
            }
        }
        return fitting.isEmpty ? allowed : fitting
    }

    /// What the objective is divided by: the largest absolute usable sensitivity (1 when all are 0).
    public var objectiveScale: Double {
        var largest = 0.0
        for g in problem.groups.indices {
            for c in problem.effectiveAllowed(g) { largest = max(largest, abs(problem.sensitivities[g][c]!)) }
        }
        return largest > 0 && largest.isFinite ? largest : 1
    }

    func decode(_ values: [Double], _ map: VariableMap) -> [Int] {
        map.map { row in
            row.indices.first { c in row[c].map { values[$0] > 0.5 } ?? false }!
        }
    }
}
