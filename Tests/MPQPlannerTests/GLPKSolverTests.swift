import Testing
@testable import MPQPlanner

/// A small deterministic generator (SplitMix64) so instances are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Multiple-choice knapsack: pick exactly one candidate per group, total cost within budget, minimise error
/// (the shape of a bit-width planning problem: groups are layers, candidates are bit widths).
struct MultipleChoiceInstance {
    var costs: [[Double]]
    var errors: [[Double]]
    var budget: Double

    var groups: Int { costs.count }
    var candidates: Int { costs[0].count }

    static func random(seed: UInt64, groups: Int = 4, candidates: Int = 3) -> MultipleChoiceInstance {
        var rng = SeededGenerator(seed: seed)
        var costs: [[Double]] = [], errors: [[Double]] = []
        for _ in 0..<groups {
            // Integer costs and errors keep objectives exact, so ties compare cleanly.
            costs.append((0..<candidates).map { _ in Double(Int.random(in: 1...20, using: &rng)) })
            errors.append((0..<candidates).map { _ in Double(Int.random(in: 0...100, using: &rng)) })
        }
        let minTotal = costs.map { $0.min()! }.reduce(0, +)
        let maxTotal = costs.map { $0.max()! }.reduce(0, +)
        let budget = (minTotal + (maxTotal - minTotal) * Double.random(in: 0.2...0.8, using: &rng)).rounded(.down)
        return MultipleChoiceInstance(costs: costs, errors: errors, budget: budget)
    }

    func variable(_ g: Int, _ c: Int) -> Int { g * candidates + c }

    var program: IntegerProgram {
        var p = IntegerProgram(direction: .minimize)
        for g in 0..<groups {
            for c in 0..<candidates { p.addVariable(.binary("x[\(g),\(c)]", objective: errors[g][c])) }
        }
        for g in 0..<groups {
            p.addConstraint(.equal((0..<candidates).map { .init(variable(g, $0), 1) }, 1, name: "one per group \(g)"))
        }
        var budgetTerms: [IntegerProgram.Term] = []
        for g in 0..<groups { for c in 0..<candidates { budgetTerms.append(.init(variable(g, c), costs[g][c])) } }
        p.addConstraint(.lessOrEqual(budgetTerms, budget, name: "budget"))
        return p
    }

    /// The best objective by enumerating every choice, or nil when none fits the budget.
    func bruteForce() -> Double? {
        var best: Double?
        var choice = [Int](repeating: 0, count: groups)
        while true {
            let cost = (0..<groups).reduce(0) { $0 + costs[$1][choice[$1]] }
            if cost <= budget {
                let error = (0..<groups).reduce(0) { $0 + errors[$1][choice[$1]] }
                best = min(best ?? error, error)
            }
            var g = groups - 1
            while g >= 0 {
                choice[g] += 1
                if choice[g] < candidates { break }
                choice[g] = 0
                g -= 1
            }
            if g < 0 { return best }
        }
    }
}

@Suite struct GLPKSolverTests {
    @Test(arguments: Array(UInt64(1)...UInt64(25)))
    func multipleChoiceMatchesBruteForce(seed: UInt64) throws {
        let instance = MultipleChoiceInstance.random(seed: seed)
        let program = instance.program
        let expected = instance.bruteForce()
        let result = GLPKSolver.solve(program)
        guard let expected else {
            #expect(result == .infeasible)
            return
        }
        guard case .optimal(let objective, let values) = result else {
            Issue.record("seed \(seed): expected optimal, got \(result)")
            return
        }
        #expect(objective == expected)
        #expect(program.isFeasible(values))
        #expect(abs(program.objectiveValue(of: values) - objective) < 1e-9)
        // Exactly one candidate per group, values integral.
        for g in 0..<instance.groups {
            let chosen = (0..<instance.candidates).filter { values[instance.variable(g, $0)] > 0.5 }
            #expect(chosen.count == 1)
        }
        #expect(values.allSatisfy { $0 == 0 || $0 == 1 })
    }

    @Test func largerInstancesMatchBruteForce() throws {
        for seed in UInt64(100)..<UInt64(105) {
            let instance = MultipleChoiceInstance.random(seed: seed, groups: 6, candidates: 4)
            let result = GLPKSolver.solve(instance.program)
            #expect(result.solution?.objective == instance.bruteForce(), "seed \(seed)")
        }
    }

    @Test func maximisationWithObjectiveConstant() throws {
        // maximise 5a + 4b + 3c + 10 subject to 2a + 3b + c <= 5 (a, b, c binary): all three weigh 6, so the
        // best is a + b (weight 5, value 19) rather than a + c (18) or b + c (17).
        var p = IntegerProgram(direction: .maximize, objectiveConstant: 10)
        let a = p.addVariable(.binary("a", objective: 5))
        let b = p.addVariable(.binary("b", objective: 4))
        let c = p.addVariable(.binary("c", objective: 3))
        p.addConstraint(.lessOrEqual([.init(a, 2), .init(b, 3), .init(c, 1)], 5))
        let result = GLPKSolver.solve(p)
        #expect(result == .optimal(objective: 19, values: [1, 1, 0]))
    }

    @Test func generalIntegerAndContinuousVariables() throws {
        // minimise x + y, x integer >= 0, y continuous >= 0.5, x + 2y >= 3.7  -> x = 0? y = 1.85 gives 1.85;
        // x = 2, y = 0.85 gives 2.85; optimum x = 0, y = 1.85.
        var p = IntegerProgram()
        let x = p.addVariable(.init(name: "x", kind: .integer, lowerBound: 0, objective: 1))
        let y = p.addVariable(.init(name: "y", kind: .continuous, lowerBound: 0.5, objective: 1))
        p.addConstraint(.greaterOrEqual([.init(x, 1), .init(y, 2)], 3.7))
        guard case .optimal(let objective, let values) = GLPKSolver.solve(p) else {
            Issue.record("expected an optimum")
            return
        }
        #expect(abs(objective - 1.85) < 1e-9)
        #expect(values[0] == 0)
        #expect(abs(values[1] - 1.85) < 1e-9)
    }

    @Test func infeasibleBudget() throws {
        var instance = MultipleChoiceInstance.random(seed: 7)
        instance.budget = instance.costs.map { $0.min()! }.reduce(0, +) - 1
        #expect(instance.bruteForce() == nil)
        #expect(GLPKSolver.solve(instance.program) == .infeasible)
    }

    @Test func integerInfeasibleButLPFeasible() throws {
        // 2x = 1 with x integer in [0, 5]: the LP relaxation has x = 0.5, no integer solution exists.
        var p = IntegerProgram()
        let x = p.addVariable(.init(name: "x", kind: .integer, lowerBound: 0, upperBound: 5, objective: 1))
        p.addConstraint(.equal([.init(x, 2)], 1))
        #expect(GLPKSolver.solve(p) == .infeasible)
    }

    @Test func unbounded() throws {
        var p = IntegerProgram(direction: .maximize)
        let x = p.addVariable(.init(name: "x", kind: .integer, lowerBound: 0, objective: 1))
        let y = p.addVariable(.init(name: "y", kind: .integer, lowerBound: 0, objective: 1))
        p.addConstraint(.greaterOrEqual([.init(x, 1), .init(y, -1)], 0))
        #expect(GLPKSolver.solve(p) == .unbounded)
    }

    @Test func emptyProgram() throws {
        #expect(GLPKSolver.solve(IntegerProgram(objectiveConstant: 3)) == .optimal(objective: 3, values: []))
        var p = IntegerProgram()
        p.addConstraint(.greaterOrEqual([], 1))
        #expect(GLPKSolver.solve(p) == .infeasible)
    }

    @Test func solverIsReusableAndOptionsApply() throws {
        let solver = try GLPKSolver(program: MultipleChoiceInstance.random(seed: 3).program)
        let first = solver.solve()
        let second = solver.solve(options: SolverOptions(timeLimit: 10, relativeGap: 0))
        #expect(first.solution?.objective == second.solution?.objective)
        #expect(solver.solve(options: SolverOptions(timeLimit: -1)) == .error(.invalidOption("timeLimit must be a positive number of seconds below 2147483, got -1.0")))
        if case .error(let e) = solver.solve(options: SolverOptions(relativeGap: .nan)) {
            #expect(e.description.contains("relativeGap"))
        } else {
            Issue.record("a NaN gap must be rejected")
        }
    }

    // MARK: Validation: every one of these would abort the process inside GLPK if passed through.

    private func twoVariables() -> IntegerProgram {
        IntegerProgram(variables: [.binary("a"), .binary("b")])
    }

    @Test func outOfRangeIndexIsRejected() throws {
        var p = twoVariables()
        p.addConstraint(.lessOrEqual([.init(0, 1), .init(2, 1)], 1, name: "cap"))
        let error = PlannerError.invalidVariableIndex(constraint: 0, constraintName: "cap", index: 2, variableCount: 2)
        #expect(throws: error) { try GLPKSolver(program: p) }
        #expect(GLPKSolver.solve(p) == .error(error))
        #expect(error.description == "constraint #0 'cap' refers to variable 2, but the program has 2 variables (valid indices 0..<2).")
    }

    @Test func negativeIndexIsRejected() throws {
        var p = twoVariables()
        p.addConstraint(.lessOrEqual([.init(-1, 1)], 1))
        #expect(throws: PlannerError.invalidVariableIndex(constraint: 0, constraintName: "", index: -1, variableCount: 2)) {
            try p.validate()
        }
    }

    @Test func duplicateIndexIsRejected() throws {
        var p = twoVariables()
        p.addConstraint(.lessOrEqual([.init(1, 1), .init(1, 2)], 1))
        let error = PlannerError.duplicateVariableInConstraint(constraint: 0, constraintName: "", variable: 1)
        #expect(GLPKSolver.solve(p) == .error(error))
        #expect(error.description.contains("more than once"))
    }

    @Test func badNumbersAndBoundsAreRejected() throws {
        var p = twoVariables()
        p.addConstraint(.lessOrEqual([.init(0, .nan)], 1))
        guard case .error(.nonFiniteValue(let location, _)) = GLPKSolver.solve(p) else {
            Issue.record("NaN coefficient accepted")
            return
        }
        #expect(location == "the coefficient of variable 0 in constraint #0")

        var q = twoVariables()
        q.addConstraint(IntegerProgram.Constraint(terms: [.init(0, 1)], lowerBound: 2, upperBound: 1))
        #expect(GLPKSolver.solve(q) == .error(.invalidBounds(location: "constraint #0", lower: 2, upper: 1)))

        var r = IntegerProgram()
        r.addVariable(.init(name: "k", kind: .integer, lowerBound: 0.5, upperBound: 3))
        #expect(GLPKSolver.solve(r) == .error(.invalidIntegerBound(variable: 0, variableName: "k", value: 0.5)))

        var s = IntegerProgram()
        s.addVariable(.init(name: "b", kind: .binary, upperBound: 2))
        #expect(GLPKSolver.solve(s) == .error(.invalidIntegerBound(variable: 0, variableName: "b", value: 2)))

        var t = IntegerProgram()
        t.addVariable(.init(name: "z", kind: .continuous, objective: .infinity))
        if case .error(let e) = GLPKSolver.solve(t) {
            #expect(e.description == "the objective coefficient of variable #0 'z' is inf; coefficients and bounds must be finite numbers (use nil for an absent bound).")
        } else {
            Issue.record("infinite objective accepted")
        }
    }

    @Test func infiniteBoundsMeanUnbounded() throws {
        var p = IntegerProgram()
        let x = p.addVariable(.init(name: "x", kind: .continuous, lowerBound: -.infinity, upperBound: .infinity, objective: 1))
        p.addConstraint(.greaterOrEqual([.init(x, 1)], -2))
        #expect(GLPKSolver.solve(p) == .optimal(objective: -2, values: [-2]))
    }
}

@Suite struct GLPKAddConstraintTests {
    @Test func addedRowsApplyAndBadRowsAreRejected() throws {
        let instance = MultipleChoiceInstance.random(seed: 11)
        let solver = try GLPKSolver(program: instance.program)
        let rows = solver.program.constraints.count
        let n = solver.program.variables.count
        for bad in [IntegerProgram.Constraint.lessOrEqual([.init(n, 1)], 1, name: "past the end"),
                    .lessOrEqual([.init(-1, 1)], 1), .lessOrEqual([.init(0, 1), .init(0, 1)], 1),
                    .lessOrEqual([.init(0, .nan)], 1), .lessOrEqual([.init(0, 1)], .nan),
                    .init(terms: [.init(0, 1)], lowerBound: 2, upperBound: 1)] {
            #expect(throws: PlannerError.self) { try solver.addConstraint(bad) }
        }
        #expect(solver.program.constraints.count == rows)
        guard case .optimal(let first, let values) = solver.solve() else { Issue.record("no optimum"); return }
        // Forbid the chosen candidate of group 0: the optimum cannot improve and must change there.
        let chosen = (0..<instance.candidates).first { values[instance.variable(0, $0)] > 0.5 }!
        try solver.addConstraint(.lessOrEqual([.init(instance.variable(0, chosen), 1)], 0, name: "not that"))
        #expect(solver.program.constraints.count == rows + 1)
        switch solver.solve() {
        case .optimal(let second, let v):
            #expect(second >= first)
            #expect(v[instance.variable(0, chosen)] < 0.5)
        case .infeasible:
            break
        default:
            Issue.record("unexpected result")
        }
    }
}
