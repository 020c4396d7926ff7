// `lapq-benchmark --lp-search [VALUES]`: one activation's Lp clipping search, its refinement rounds scoring every
// value against its default stratified sample (LpClipping.defaultRefineSampleSize), side by side on the same tensor.
//
// The tensor stands for an early EfficientNet-Lite activation on the 64 probe crops (64 × 96 × 112 × 112 ≈ 77 M
// values after the expansion convolution): ReLU6-clipped Laplace values, half of them exact zeros, plus a few
// outliers. Errors are each α's exact mean |Q(x) − x|^p over the whole tensor.
import Foundation
import MPQQuantization

func lpSearchTiming(count: Int) throws {
    var state: UInt64 = 0x1234_5678
    func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
    var values = [Float](repeating: 0, count: count)
    for i in 0..<count {
        let u = uniform() - 0.5
        let laplace = -(u < 0 ? -1.0 : 1.0) * log(1 - 2 * abs(u))
        values[i] = Float(min(max(laplace, 0), 6))
    }
    for k in 0..<16 { values[(k * 7_919_993) % count] = 6 }
    let grid = try QuantizationGrid.unsignedSymmetric(bits: 8)
    print("Lp clipping search on \(count) values (8-bit unsigned grid), one thread")
    print("p      refinement scores    seconds   alpha      exact error    vs every value")
    for p in [2.0, 2.6666666666666665, 4.0] {
        var reference = 0.0
        for (label, size) in [("every value", Int.max), ("2^\(LpClipping.defaultRefineSampleSize.trailingZeroBitCount) sample", LpClipping.defaultRefineSampleSize)] {
            let start = now()
            let result = try LpClipping(p: p, grid: grid, refineSampleSize: size)(values)
            let seconds = now() - start
            let exact = LpClipping.lpError(values, parameters: result.parameters, p: p)
            if size == .max { reference = exact }
            let excess = String(format: "%+.4f %%", 100 * (exact / reference - 1))
            print(String(format: "%-6.3f %-20@ %8.2f   %-10.5f %-14.6e %@", p, label as NSString, seconds, result.alpha, exact, excess as NSString))
        }
    }
}
