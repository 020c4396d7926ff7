/// Shared objective functions for the optimiser tests.
enum TestFunctions {
    /// Rosenbrock's function in N dimensions; minimum 0 at all ones.
    static func rosenbrock(_ x: [Double]) -> Double {
        var sum = 0.0
        for i in 0..<(x.count - 1) {
            let a = x[i + 1] - x[i] * x[i]
            let b = 1 - x[i]
            sum += 100 * a * a + b * b
        }
        return sum
    }

    static func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
