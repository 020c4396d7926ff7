/// Three abscissae a, b, c with f(b) below f(a) and f(c), as found by ``BrentMinimizer/bracket(_:from:_:valueAtFirst:growLimit:maxIterations:)``.
///
/// The points are ordered along the search (a → b → c), so c may be smaller than a.
public struct Bracket: Sendable, Equatable {
    public var a: Double
    public var b: Double
    public var c: Double
    public var fa: Double
    public var fb: Double
    public var fc: Double
    /// Objective evaluations used to build the bracket.
    public var evaluations: Int

    public init(a: Double, b: Double, c: Double, fa: Double, fb: Double, fc: Double, evaluations: Int = 0) {
        self.a = a
        self.b = b
        self.c = c
        self.fa = fa
        self.fb = fb
        self.fc = fc
        self.evaluations = evaluations
    }

    /// True when b lies strictly between a and c, f(b) is no larger than one neighbour and strictly
    /// below the other, and all values are finite. Flat functions (f(a) = f(b) = f(c)) give an
    /// invalid bracket.
    public var isValid: Bool {
        let ordered = (a < b && b < c) || (c < b && b < a)
        let lowMiddle = (fb < fc && fb <= fa) || (fb < fa && fb <= fc)
        return ordered && lowMiddle && fa.isFinite && fb.isFinite && fc.isFinite
    }

    /// The lowest of the three sampled points (first of a, b, c on ties).
    public var bestPoint: (x: Double, value: Double) {
        var best = (x: a, value: fa)
        if fb < best.value || best.value.isNaN { best = (b, fb) }
        if fc < best.value || best.value.isNaN { best = (c, fc) }
        return best
    }
}
