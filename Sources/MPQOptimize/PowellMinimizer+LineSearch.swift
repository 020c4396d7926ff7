extension PowellMinimizer {
    /// Outcome of one line search: the new (projected) point, its value and the displacement t*·d
    /// actually made (what replaces a direction).
    struct LineStep {
        var point: [Double]
        var value: Double
        var displacement: [Double]
    }

    /// Line-minimises g(y + t·d) over t as the reference does: bracket from t ∈ {0, 1}, then Brent
    /// with tol = 100·xtol. A zero direction costs nothing. With ``PowellOptions/skipLineSearchOrigin``
    /// the known value at t = 0 is reused instead of evaluated again.
    func lineSearch(_ g: ([Double]) throws -> Double, from y: [Double], along d: [Double], value: Double,
                    project: ([Double]) -> [Double]) throws -> LineStep {
        guard d.contains(where: { $0 != 0 }) else {
            return LineStep(point: y, value: value, displacement: d)
        }
        let n = y.count
        func phi(_ t: Double) throws -> Double {
            var p = y
            for i in 0..<n { p[i] += t * d[i] }
            return try g(p)
        }
        let brent = BrentMinimizer(tolerance: 100 * options.xtol, absoluteTolerance: options.lineSearchAbsoluteTolerance)
        let minimum = try brent.minimize(phi, from: 0, 1,
                                         valueAtFirst: options.skipLineSearchOrigin ? value : nil)
        // Without clamping the step is exactly t*·d (as in the reference); with clamping it is the
        // displacement actually made.
        var displacement = d.map { minimum.x * $0 }
        var point = y
        for i in 0..<n { point[i] += displacement[i] }
        let projected = project(point)
        if projected != point {
            point = projected
            for i in 0..<n { displacement[i] = point[i] - y[i] }
        }
        return LineStep(point: point, value: minimum.value, displacement: displacement)
    }
}
