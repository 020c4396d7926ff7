import CGLPK
import Foundation

/// Solves an `IntegerProgram` with GLPK's branch-and-cut (`glp_intopt`, presolver on, output off).
///
/// The solver owns one GLPK problem object, built in `init` after the program has been validated in
/// Swift (GLPK aborts the process on an invalid index or count, which Swift cannot catch), and freed in
/// `deinit`. GLPK calls are serialised through one lock, so solvers may be used from several threads.
public final class GLPKSolver {
    /// The program as built, with every row added since by `addConstraint`.
    public private(set) var program: IntegerProgram
    private let problem: OpaquePointer

    /// GLPK's environment is per thread only when the library was built with thread-local storage;
    /// a process-wide lock is safe either way and costs nothing at planner sizes.
    private static let lock = NSLock()

    /// Validates `program` and builds the GLPK problem. Throws `PlannerError` for an invalid program.
    public init(program: IntegerProgram) throws {
        try program.validate()
        self.program = program
        GLPKSolver.lock.lock()
        defer { GLPKSolver.lock.unlock() }
        glp_term_out(GLP_OFF)
        problem = glp_create_prob()
        build()
    }

    deinit {
        GLPKSolver.lock.lock()
        defer { GLPKSolver.lock.unlock() }
        glp_delete_prob(problem)
    }

    /// Appends a row to the program and to the GLPK problem, so the next `solve` respects it (a no-good cut, say).
    /// The row is validated first — variable indices in range and distinct, finite numbers, ordered bounds —
    /// since GLPK would abort the process on a bad index. Throws `PlannerError` and changes nothing when invalid.
    public func addConstraint(_ constraint: IntegerProgram.Constraint) throws {
        let i = program.constraints.count
        try program.validate(constraint, at: i)
        guard i < IntegerProgram.maximumRows else {
            throw PlannerError.tooLarge(what: "constraints", count: i + 1, limit: IntegerProgram.maximumRows)
        }
        program.constraints.append(constraint)
        GLPKSolver.lock.lock()
        defer { GLPKSolver.lock.unlock() }
        glp_add_rows(problem, 1)
        setRow(Int32(i + 1), constraint)
    }

    /// Validates, builds and solves in one step; an invalid program yields `.error`.
    public static func solve(_ program: IntegerProgram, options: SolverOptions = SolverOptions()) -> SolveResult {
        do {
            return try GLPKSolver(program: program).solve(options: options)
        } catch let error as PlannerError {
            return .error(error)
        } catch {
            return .error(.solverFailed(code: -1, reason: "\(error)"))
        }
    }

    /// Runs branch-and-cut and reports the outcome.
    public func solve(options: SolverOptions = SolverOptions()) -> SolveResult {
        var parameters = glp_iocp()
        glp_init_iocp(&parameters)
        parameters.presolve = GLP_ON
        parameters.msg_lev = GLP_MSG_OFF
        if let t = options.timeLimit {
            guard t.isFinite, t > 0, t * 1000 < Double(Int32.max) else {
                return .error(.invalidOption("timeLimit must be a positive number of seconds below \(Int32.max / 1000), got \(t)"))
            }
            parameters.tm_lim = Int32(max(1, (t * 1000).rounded()))
        }
        if let g = options.relativeGap {
            guard g.isFinite, g >= 0 else { return .error(.invalidOption("relativeGap must be a non-negative number, got \(g)")) }
            parameters.mip_gap = g
        }
        let n = program.variables.count
        if n == 0 { return solveEmpty() }

        GLPKSolver.lock.lock()
        defer { GLPKSolver.lock.unlock() }
        glp_term_out(GLP_OFF)
        let code = glp_intopt(problem, &parameters)
        let status = glp_mip_status(problem)
        func incumbent() -> (Double, [Double]) {
            let values = (1...n).map { glp_mip_col_val(problem, Int32($0)) }
            return (glp_mip_obj_val(problem), values)
        }
        switch code {
        case 0:
            switch status {
            case GLP_OPT:
                let (objective, values) = incumbent()
                return .optimal(objective: objective, values: values)
            case GLP_FEAS:
                let (objective, values) = incumbent()
                return .feasible(objective: objective, values: values, reason: "search ended without proving optimality")
            case GLP_NOFEAS:
                return .infeasible
            default:
                return .error(.solverFailed(code: Int(code), reason: "glp_intopt returned without a solution (status \(status))"))
            }
        case GLP_ENOPFS:
            return .infeasible
        case GLP_ENODFS:
            return .unbounded
        case GLP_ETMLIM, GLP_EMIPGAP, GLP_ESTOP:
            let reason = code == GLP_ETMLIM ? "time limit reached" : code == GLP_EMIPGAP ? "relative gap tolerance reached" : "search stopped"
            if status == GLP_FEAS || status == GLP_OPT {
                let (objective, values) = incumbent()
                return .feasible(objective: objective, values: values, reason: reason)
            }
            return .error(.solverFailed(code: Int(code), reason: "\(reason) before any feasible solution was found"))
        case GLP_EBOUND:
            return .error(.solverFailed(code: Int(code), reason: "an integer variable has incorrect or fractional bounds"))
        case GLP_EROOT:
            return .error(.solverFailed(code: Int(code), reason: "the root LP optimum was not provided (presolver off?)"))
        case GLP_EFAIL:
            return .error(.solverFailed(code: Int(code), reason: "the search failed with a solver error"))
        default:
            return .error(.solverFailed(code: Int(code), reason: "glp_intopt returned an unknown code"))
        }
    }

    /// A program with no variables: feasible exactly when every (empty) row admits 0.
    private func solveEmpty() -> SolveResult {
        for c in program.constraints {
            let b = c.effectiveBounds
            if let lo = b.lower, lo > 0 { return .infeasible }
            if let hi = b.upper, hi < 0 { return .infeasible }
        }
        return .optimal(objective: program.objectiveConstant, values: [])
    }

    /// Copies the (validated) program into the GLPK problem. Called with the lock held.
    private func build() {
        let p = problem
        glp_set_obj_dir(p, program.direction == .minimize ? GLP_MIN : GLP_MAX)
        glp_set_obj_coef(p, 0, program.objectiveConstant)
        let n = program.variables.count, m = program.constraints.count
        // glp_add_cols/glp_add_rows abort when asked for zero.
        if n > 0 { glp_add_cols(p, Int32(n)) }
        if m > 0 { glp_add_rows(p, Int32(m)) }
        for (j, v) in program.variables.enumerated() {
            let col = Int32(j + 1)
            glp_set_col_kind(p, col, v.kind == .continuous ? GLP_CV : GLP_IV)
            let b = v.effectiveBounds
            let (type, lo, hi) = GLPKSolver.boundType(b.lower, b.upper)
            glp_set_col_bnds(p, col, type, lo, hi)
            glp_set_obj_coef(p, col, v.objective)
        }
        for (i, c) in program.constraints.enumerated() { setRow(Int32(i + 1), c) }
    }

    /// Sets the bounds and coefficients of an existing 1-based row. Called with the lock held, on a validated row.
    private func setRow(_ row: Int32, _ c: IntegerProgram.Constraint) {
        let b = c.effectiveBounds
        let (type, lo, hi) = GLPKSolver.boundType(b.lower, b.upper)
        glp_set_row_bnds(problem, row, type, lo, hi)
        // GLPK arrays are 1-based: element 0 is ignored.
        var indices: [Int32] = [0]
        var values: [Double] = [0]
        for t in c.terms {
            indices.append(Int32(t.variable + 1))
            values.append(t.coefficient)
        }
        glp_set_mat_row(problem, row, Int32(c.terms.count), indices, values)
    }

    private static func boundType(_ lower: Double?, _ upper: Double?) -> (Int32, Double, Double) {
        switch (lower, upper) {
        case (nil, nil): return (GLP_FR, 0, 0)
        case (let lo?, nil): return (GLP_LO, lo, 0)
        case (nil, let hi?): return (GLP_UP, 0, hi)
        case (let lo?, let hi?): return lo == hi ? (GLP_FX, lo, hi) : (GLP_DB, lo, hi)
        }
    }
}
