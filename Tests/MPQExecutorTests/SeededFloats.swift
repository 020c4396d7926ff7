/// Deterministic floats in [-1, 1) from a linear congruential generator (test inputs and weights).
struct SeededFloats {
    var state: UInt64
    mutating func floats(_ n: Int) -> [Float] {
        (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }
}
