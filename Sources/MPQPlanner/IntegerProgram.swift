/// A mixed-integer linear program: variables with bounds and kinds, a linear objective to minimise or
/// maximise, and linear rows with lower and/or upper bounds. Indices are 0-based throughout.
public struct IntegerProgram: Sendable, Equatable {
    public enum Direction: Sendable, Equatable {
        case minimize
        case maximize
    }

    public enum VariableKind: Sendable, Equatable {
        case continuous
        case integer
        /// An integer in [0, 1]; explicit bounds, if given, must lie in that range.
        case binary
    }

    public struct Variable: Sendable, Equatable {
        /// A name for messages (GLPK never sees it).
        public var name: String
        public var kind: VariableKind
        /// nil (or -infinity) means unbounded below.
        public var lowerBound: Double?
        /// nil (or +infinity) means unbounded above.
        public var upperBound: Double?
        /// The variable's objective coefficient.
        public var objective: Double

        public init(name: String = "", kind: VariableKind, lowerBound: Double? = nil, upperBound: Double? = nil, objective: Double = 0) {
            self.name = name
            self.kind = kind
            self.lowerBound = lowerBound
            self.upperBound = upperBound
            self.objective = objective
        }

        /// A 0-1 variable.
        public static func binary(_ name: String = "", objective: Double = 0) -> Variable {
            Variable(name: name, kind: .binary, objective: objective)
        }
    }

    /// One coefficient of a row: `coefficient * x[variable]`.
    public struct Term: Sendable, Equatable {
        public var variable: Int
        public var coefficient: Double

        public init(_ variable: Int, _ coefficient: Double) {
            self.variable = variable
            self.coefficient = coefficient
        }
    }

    /// A row `lowerBound <= sum(terms) <= upperBound`; a nil bound is absent.
    public struct Constraint: Sendable, Equatable {
        public var name: String
        public var terms: [Term]
        public var lowerBound: Double?
        public var upperBound: Double?

        public init(name: String = "", terms: [Term], lowerBound: Double?, upperBound: Double?) {
            self.name = name
            self.terms = terms
            self.lowerBound = lowerBound
            self.upperBound = upperBound
        }

        public static func lessOrEqual(_ terms: [Term], _ bound: Double, name: String = "") -> Constraint {
            Constraint(name: name, terms: terms, lowerBound: nil, upperBound: bound)
        }

        public static func greaterOrEqual(_ terms: [Term], _ bound: Double, name: String = "") -> Constraint {
            Constraint(name: name, terms: terms, lowerBound: bound, upperBound: nil)
        }

        public static func equal(_ terms: [Term], _ value: Double, name: String = "") -> Constraint {
            Constraint(name: name, terms: terms, lowerBound: value, upperBound: value)
        }
    }

    public var direction: Direction
    public var variables: [Variable]
    public var constraints: [Constraint]
    /// A constant added to the objective.
    public var objectiveConstant: Double

    public init(direction: Direction = .minimize, variables: [Variable] = [], constraints: [Constraint] = [], objectiveConstant: Double = 0) {
        self.direction = direction
        self.variables = variables
        self.constraints = constraints
        self.objectiveConstant = objectiveConstant
    }

    /// Appends a variable and returns its index.
    @discardableResult
    public mutating func addVariable(_ variable: Variable) -> Int {
        variables.append(variable)
        return variables.count - 1
    }

    /// Appends a constraint and returns its index.
    @discardableResult
    public mutating func addConstraint(_ constraint: Constraint) -> Int {
        constraints.append(constraint)
        return constraints.count - 1
    }

    /// The objective value of an assignment (one value per variable).
    public func objectiveValue(of values: [Double]) -> Double {
        precondition(values.count == variables.count, "expected \(variables.count) values, got \(values.count)")
        return zip(variables, values).reduce(objectiveConstant) { $0 + $1.0.objective * $1.1 }
    }

    /// Whether an assignment satisfies every bound, integrality requirement and row, within `tolerance`.
    public func isFeasible(_ values: [Double], tolerance: Double = 1e-6) -> Bool {
        guard values.count == variables.count else { return false }
        for (v, x) in zip(variables, values) {
            let b = v.effectiveBounds
            if let lo = b.lower, x < lo - tolerance { return false }
            if let hi = b.upper, x > hi + tolerance { return false }
            if v.kind != .continuous, abs(x - x.rounded()) > tolerance { return false }
        }
        for c in constraints {
            guard c.terms.allSatisfy({ values.indices.contains($0.variable) }) else { return false }
            let sum = c.terms.reduce(0) { $0 + $1.coefficient * values[$1.variable] }
            if let lo = c.lowerBound, sum < lo - tolerance { return false }
            if let hi = c.upperBound, sum > hi + tolerance { return false }
        }
        return true
    }
}

extension IntegerProgram.Variable {
    /// Bounds after defaults: infinite bounds become nil; a binary variable is bounded to [0, 1].
    var effectiveBounds: (lower: Double?, upper: Double?) {
        var lower = lowerBound.flatMap { $0 == -.infinity ? nil : $0 }
        var upper = upperBound.flatMap { $0 == .infinity ? nil : $0 }
        if kind == .binary {
            lower = lower ?? 0
            upper = upper ?? 1
        }
        return (lower, upper)
    }
}

extension IntegerProgram.Constraint {
    var effectiveBounds: (lower: Double?, upper: Double?) {
        (lowerBound.flatMap { $0 == -.infinity ? nil : $0 }, upperBound.flatMap { $0 == .infinity ? nil : $0 })
    }
}
