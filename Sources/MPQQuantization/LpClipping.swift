import Foundation
import MPQOptimize

/// Lp-norm clipping (LAPQ step 1): for a tensor x, a grid and a norm p ∈ [2, 4],
/// α_p = argmin_α mean(|Q_α(x) − x|^p).
///
/// Search variable:
/// - symmetric grids: α ∈ (0, T] with T = max|x| (unsigned grids: T = max(x, 0), since negative
///   values clip to 0 whatever α is);
/// - asymmetric grids: a single factor s ∈ (0, 1] scaling the observed range, so the quantizer
///   range is [s·min(x), s·max(x)] (widened to contain 0). The result's `alpha` is then s.
///
/// Two search methods:
/// - `.brent`: bounded Brent (MPQOptimize's `minimizeBounded`, like scipy's fminbound) over (0, T];
///   the LAPQ reference's approach. Fast, but the objective is jagged (rounding noise) and can have
///   several local minima at low bit-widths, so Brent may stop in a worse one.
/// - `.gridRefined`: scan candidate α's (a linear grid over (0, T] plus the magnitudes at tail
///   quantiles 0.5…0.9999) with a cheap approximate objective: the largest ~`coarseSampleSize`/8
///   magnitudes in full (they decide the clipping error) plus a stride sample of the rest, weighted
///   back to the whole, O(n) with only small sorts; then refine around the best candidate with
///   `refinements` rounds of `pointsPerRound` evenly spaced evaluations, each round shrinking the
///   bracket to the best point's neighbours. Robust to local minima. The rounds score every value, or
///   above `refineSampleSize` values the same kind of stratified sample at that size.
///
/// `.gridRefined` never drops the tail: both its objectives keep the largest magnitudes in full, and
/// a plain subsample would drop the rare outliers that decide the clipping error (a transformer's
/// FFN outputs hold a few values 100× the bulk; a stride sample missed them and clipped at 1 % of
/// the range even at 16 bits). `.brent` evaluates the full objective at every step, so for it large
/// tensors are subsampled deterministically: when a tensor has more than `sampleCap` values (default
/// 2^16), `sampleCap` values are taken at a fixed stride count/cap starting from an offset drawn from
/// `seed` (SplitMix64). T always comes from the whole tensor.
public struct LpClipping: Sendable {
    /// How to minimise the Lp error over the clipping variable.
    public enum Method: Sendable, Hashable {
        /// Bounded Brent over (0, T] with absolute tolerance `relativeTolerance · T`.
        case brent(relativeTolerance: Double)
        /// Coarse scan over sorted-magnitude and linear candidates, then grid refinement.
        case gridRefined(coarseCandidates: Int, refinements: Int, pointsPerRound: Int)

        /// Brent with tolerance 1e-4 · T.
        public static let brent = Method.brent(relativeTolerance: 1e-4)
        /// 24 linear + 12 quantile candidates, 4 rounds of 8 points (~70 evaluations, bracket ~1e-4 · T).
        public static let gridRefined = Method.gridRefined(coarseCandidates: 24, refinements: 4, pointsPerRound: 8)
    }

    /// The default cap on values used by the search (2^16).
    public static let defaultSampleCap = 1 << 16

    /// The norm p (2...4 by default; any p ≥ 1 is accepted).
    public var p: Double
    public var grid: QuantizationGrid
    public var method: Method
    /// At most this many values enter `.brent`'s error evaluation.
    public var sampleCap: Int
    /// Seed of the subsampling offset.
    public var seed: UInt64
    /// Approximate size of the bulk subsample used by the coarse scan of `.gridRefined`.
    public var coarseSampleSize: Int
    /// Above this many scored values, `.gridRefined`'s refinement rounds score a stratified sample of
    /// about this size instead of every value (default 2^18).
    public var refineSampleSize: Int

    /// The default `refineSampleSize` (2^18): an early activation of an ImageNet CNN holds ~10^8 values
    /// on 64 images, and scoring them all at ~33 refinement points per p was most of a sensitivity sweep. The
    /// sampled α's excess Lp error was +0.004 % of the exhaustive search's on 2·10^7 values (+0.001 % with 2^20),
    /// and the search took a third less time than with 2^20.
    public static let defaultRefineSampleSize = 1 << 18

    public init(p: Double, grid: QuantizationGrid, method: Method = .gridRefined,
                sampleCap: Int = LpClipping.defaultSampleCap, seed: UInt64 = 0, coarseSampleSize: Int = 4096,
                refineSampleSize: Int = LpClipping.defaultRefineSampleSize) throws {
        guard p.isFinite, p >= 1 else { throw QuantizationError.invalidArgument("norm p = \(p) must be ≥ 1") }
        guard sampleCap >= 16 else { throw QuantizationError.invalidArgument("sampleCap \(sampleCap) must be ≥ 16") }
        self.p = p
        self.grid = grid
        self.method = method
        self.sampleCap = sampleCap
        self.seed = seed
        self.coarseSampleSize = max(coarseSampleSize, 64)
        self.refineSampleSize = max(refineSampleSize, 64)
    }

    /// The MMSE clipping (p = 2).
    public static func mmse(grid: QuantizationGrid, method: Method = .gridRefined) throws -> LpClipping {
        try LpClipping(p: 2, grid: grid, method: method)
    }

    /// The outcome of a clipping search.
    public struct Result: Sendable, Hashable {
        /// The clipping value α (symmetric grids) or range factor s (asymmetric grids).
        public var alpha: Float
        /// The quantizer built from it.
        public var parameters: QuantizerParameters
        /// mean(|Q(x) − x|^p) over the values searched (the subsample when the tensor was capped), or for
        /// `.gridRefined` above `refineSampleSize` values its stratified estimate.
        public var error: Double
        /// Objective evaluations spent.
        public var evaluations: Int
    }

    // MARK: - Baselines

    /// Min-max (no clipping) parameters: α = max|x| (unsigned: max(x, 0)); asymmetric: [min, max].
    public static func minMax(_ values: [Float], grid: QuantizationGrid) throws -> QuantizerParameters {
        guard !values.isEmpty else { throw QuantizationError.invalidArgument("empty tensor") }
        let problem = Problem(values: values, grid: grid)
        return try problem.parameters(problem.upper)
    }

    /// Per-channel min-max parameters along `axis`.
    public static func minMaxPerChannel(_ values: [Float], shape: [Int], axis: Int,
                                        grid: QuantizationGrid) throws -> QuantizerParameters {
        let channels = try Self.channelValues(values, shape: shape, axis: axis)
        let problems = channels.map { Problem(values: $0, grid: grid) }
        return try Self.combine(problems.map(\.upper), grid: grid, problems: problems, axis: axis)
    }

    // MARK: - Search

    /// Finds the clipping value for one tensor (per-tensor quantizer).
    public func callAsFunction(_ values: [Float]) throws -> Result {
        guard !values.isEmpty else { throw QuantizationError.invalidArgument("empty tensor") }
        return try search(problem(for: values))
    }

    /// Finds one clipping value per channel along `axis` (weights: axis of the output channel).
    public func perChannel(_ values: [Float], shape: [Int], axis: Int) throws -> (parameters: QuantizerParameters, results: [Result]) {
        let channels = try Self.channelValues(values, shape: shape, axis: axis)
        var results: [Result] = []
        var problems: [Problem] = []
        for c in channels {
            results.append(try search(problem(for: c)))
            problems.append(Problem(values: c, grid: grid))
        }
        let params = try Self.combine(results.map { Double($0.alpha) }, grid: grid, problems: problems, axis: axis)
        return (params, results)
    }

    /// The search problem of one tensor or channel: all of it, or a subsample for `.brent`.
    func problem(for values: [Float]) -> Problem {
        guard case .brent = method, values.count > sampleCap else { return Problem(values: values, grid: grid) }
        var problem = Problem(values: LpClipping.subsample(values, cap: sampleCap, seed: seed), grid: grid)
        problem.upper = Problem(values: values, grid: grid).upper
        return problem
    }

    /// mean(|Q(x) − x|^p) for a per-tensor quantizer.
    public static func lpError(_ values: [Float], parameters: QuantizerParameters, p: Double) -> Double {
        precondition(parameters.channelCount == 1, "lpError takes per-tensor parameters")
        guard !values.isEmpty else { return 0 }
        return values.withUnsafeBufferPointer { Self.meanError($0, parameters, p: p) }
    }

    func search(_ problem: Problem) throws -> Result {
        guard problem.upper > 0 else {
            let params = try problem.parameters(0)
            return Result(alpha: 0, parameters: params, error: problem.error(params, p: p), evaluations: 1)
        }
        var evaluations = 0
        switch method {
        case .brent(let rtol):
            let m = try BrentMinimizer.minimizeBounded({ t in
                try problem.error(problem.parameters(t), p: self.p)
            }, lower: 0, upper: problem.upper, xatol: rtol * problem.upper, maxEvaluations: 500)
            let params = try problem.parameters(m.x)
            return Result(alpha: Float(m.x), parameters: params, error: problem.error(params, p: p), evaluations: m.evaluations + 1)
        case let .gridRefined(coarse, rounds, points):
            let best = try gridRefinedSearch(problem.skippingZeros(materializingUpTo: refineSampleSize), coarse: coarse,
                                             rounds: rounds, points: points, evaluations: &evaluations)
            return Result(alpha: Float(best.t), parameters: try problem.parameters(best.t), error: best.error, evaluations: evaluations)
        }
    }

    /// The best search variable and its refinement objective (the exact error, or its stratified estimate).
    func gridRefinedSearch(_ problem: Problem, coarse: Int, rounds: Int, points: Int, evaluations: inout Int) throws -> (t: Double, error: Double) {
        let T = problem.upper
        let n = problem.values.count
        let key = problem.magnitude
        // Coarse objective: a small stratified sample (O(n) plus two small sorts).
        let coarseSample = problem.values.withUnsafeBufferPointer {
            StratifiedSample($0, skippingZeros: false, count: n, size: coarseSampleSize, total: n, key: key)
        }
        let probe = coarseSample.bulkKeys, tailKeys = coarseSample.tailKeys
        func coarseError(_ t: Double) throws -> Double { coarseSample.meanError(try problem.parameters(t), p: p) }
        // Refinement objective: the scored values in full, or for tensors above `refineSampleSize` a large
        // stratified sample of them. Every candidate is scored on the same sample, so their differences
        // carry far less noise than the sample's estimate of the error itself.
        let scoredCount = problem.scoredCount ?? n
        let refineSample = scoredCount > refineSampleSize
            ? problem.values.withUnsafeBufferPointer {
                StratifiedSample($0, skippingZeros: problem.scoredCount != nil, count: scoredCount, size: refineSampleSize,
                                 total: n, sortingKeys: false, key: key)
            } : nil
        func refineError(_ t: Double) throws -> Double {
            let params = try problem.parameters(t)
            return refineSample?.meanError(params, p: p) ?? problem.error(params, p: p)
        }

        // Candidates: a linear grid over (0, T] and magnitudes at tail quantiles.
        var candidates = Set<Double>()
        let m = max(coarse, 2)
        for k in 1...m { candidates.insert(T * Double(k) / Double(m)) }
        let quantiles: [Double] = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999]
        for q in quantiles {
            let rank = q * Double(n)                         // rank among all n values
            let fromTop = Double(n) - rank
            let v: Float
            if fromTop <= Double(tailKeys.count), !tailKeys.isEmpty {
                v = tailKeys[max(0, min(tailKeys.count - 1, tailKeys.count - Int(fromTop.rounded(.up))))]
            } else if !probe.isEmpty {
                v = probe[min(probe.count - 1, Int(q * Double(probe.count)))]
            } else { continue }
            if v > 0 && Double(v) <= T { candidates.insert(Double(v)) }
        }
        let grid = candidates.sorted()
        var bestIndex = 0
        var bestValue = Double.infinity
        for (k, t) in grid.enumerated() {
            let e = try coarseError(t)
            evaluations += 1
            if e < bestValue { bestValue = e; bestIndex = k }
        }
        var lo = bestIndex > 0 ? grid[bestIndex - 1] : 0
        var hi = bestIndex + 1 < grid.count ? grid[bestIndex + 1] : T
        var best = grid[bestIndex]
        bestValue = try refineError(best)
        evaluations += 1
        let count = max(points, 2)
        for _ in 0..<max(rounds, 1) {
            let h = (hi - lo) / Double(count + 1)
            for k in 1...count {
                let t = lo + h * Double(k)
                let e = try refineError(t)
                evaluations += 1
                if e < bestValue { bestValue = e; best = t }
            }
            lo = max(0, best - h)
            hi = min(T, best + h)
        }
        return (best, bestValue)
    }

    // MARK: - Problem

    /// The values and grid of one search, with the search variable's bound.
    struct Problem {
        var values: [Float]
        var grid: QuantizationGrid
        /// Lower bound of the search variable (exclusive, 0).
        var lower: Double = 0
        /// Upper bound T of the search variable.
        var upper: Double
        var minValue: Float
        var maxValue: Float
        /// The values `error` scores: all of them, or (after `skippingZeros()`) the non-zero ones.
        var scored: [Float]? = nil
        /// How many values are scored, when `skippingZeros()` left zeros out (`scored` may then be left unbuilt).
        var scoredCount: Int? = nil

        init(values: [Float], grid: QuantizationGrid) {
            var lo = Float.infinity, hi = -Float.infinity
            for v in values { lo = min(lo, v); hi = max(hi, v) }
            if values.isEmpty { lo = 0; hi = 0 }
            self.values = values
            self.grid = grid
            self.minValue = lo
            self.maxValue = hi
            if !grid.symmetric {
                upper = (lo < 0 || hi > 0) ? 1 : 0
            } else if grid.signedness == .unsigned && grid.style == .deployable {
                upper = Double(max(hi, 0))
            } else {
                upper = Double(max(abs(lo), abs(hi)))
            }
        }

        init(values: [Float], grid: QuantizationGrid, lower: Double, upper: Double, minValue: Float, maxValue: Float) {
            self.values = values; self.grid = grid; self.lower = lower; self.upper = upper
            self.minValue = minValue; self.maxValue = maxValue
        }

        func parameters(_ t: Double) throws -> QuantizerParameters {
            if grid.symmetric { return try grid.parameters(alpha: Float(t)) }
            return try grid.parameters(lo: Float(t) * minValue, hi: Float(t) * maxValue)
        }

        func error(_ params: QuantizerParameters, p: Double) -> Double {
            (scored ?? values).withUnsafeBufferPointer { LpClipping.meanError($0, params, p: p, count: values.count) }
        }

        /// The problem scoring only non-zero values. On a deployable grid zero is a code (its zero point is an
        /// integer in range), so an exact zero's error is 0 at every step: leaving the zeros out changes nothing
        /// but the summation order, and after ReLU they are often half of an activation.
        ///
        /// The non-zero values are copied into `scored` only up to `limit` of them: above it the search scores a
        /// stratified sample, which skips the zeros as it reads the tensor.
        func skippingZeros(materializingUpTo limit: Int = .max) -> Problem {
            guard grid.style == .deployable else { return self }
            var copy = self
            let nonZero = values.withUnsafeBufferPointer { buffer in
                var count = 0
                for v in buffer where v != 0 { count &+= 1 }
                return count
            }
            guard nonZero < values.count else { return copy }
            copy.scoredCount = nonZero
            if nonZero <= limit { copy.scored = values.filter { $0 != 0 } }
            return copy
        }

        /// A value's magnitude in search-variable units.
        var magnitude: Magnitude {
            if !grid.symmetric { return Magnitude(kind: .rangeFraction, below: -minValue, above: maxValue) }
            if grid.signedness == .unsigned && grid.style == .deployable { return Magnitude(kind: .positivePart) }
            return Magnitude(kind: .absolute)
        }
    }

    /// A value's magnitude in search-variable units: |x| (symmetric grids), max(x, 0) (unsigned deployable
    /// grids), or the fraction of the range on x's side of zero (asymmetric grids).
    struct Magnitude {
        enum Kind { case absolute, positivePart, rangeFraction }
        var kind: Kind
        /// −min(x) and max(x), for `.rangeFraction`.
        var below: Float = 0, above: Float = 0

        @inline(__always)
        func callAsFunction(_ v: Float) -> Float {
            switch kind {
            case .absolute: return abs(v)
            case .positivePart: return max(v, 0)
            case .rangeFraction: return v < 0 ? (below > 0 ? -v / below : 0) : (above > 0 ? v / above : 0)
            }
        }
    }

    // MARK: - Helpers

    static func combine(_ ts: [Double], grid: QuantizationGrid, problems: [Problem], axis: Int) throws -> QuantizerParameters {
        if grid.symmetric { return try grid.parameters(alphas: ts.map { Float($0) }, axis: axis) }
        return try grid.parameters(ranges: zip(ts, problems).map { (Float($0) * $1.minValue, Float($0) * $1.maxValue) }, axis: axis)
    }

    /// The values of each channel along `axis`, channel by channel.
    static func channelValues(_ values: [Float], shape: [Int], axis: Int) throws -> [[Float]] {
        guard Tensor_count(shape) == values.count else {
            throw QuantizationError.shapeMismatch("shape \(shape) does not hold \(values.count) values")
        }
        guard axis >= 0, axis < shape.count else {
            throw QuantizationError.channelMismatch("axis \(axis) is outside a rank-\(shape.count) tensor")
        }
        let outer = shape[..<axis].reduce(1, *), channels = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var result = [[Float]](repeating: [], count: channels)
        for c in 0..<channels { result[c].reserveCapacity(outer * inner) }
        var offset = 0
        for _ in 0..<outer {
            for c in 0..<channels {
                result[c].append(contentsOf: values[offset..<(offset + inner)])
                offset += inner
            }
        }
        return result
    }

    /// Deterministic stride subsample of at most `cap` values (see the type's documentation).
    public static func subsample(_ values: [Float], cap: Int, seed: UInt64) -> [Float] {
        guard values.count > cap else { return values }
        let stride = Double(values.count) / Double(cap)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        state = z
        let offset = Double(state >> 11) / Double(1 << 53) * stride
        var out = [Float]()
        out.reserveCapacity(cap)
        for i in 0..<cap {
            let index = min(values.count - 1, Int(offset + Double(i) * stride))
            out.append(values[index])
        }
        return out
    }

    /// mean |fq(x) − x|^p with 8-lane SIMD, integer-p fast paths, a vectorised power for other p
    /// (`VectorPower`) and blockwise Double accumulation.
    /// `count` is the number of values the mean is over (default: `x.count`; more when exact zeros were left out).
    static func meanError(_ x: UnsafeBufferPointer<Float>, _ q: QuantizerParameters, p: Double, count: Int? = nil) -> Double {
        typealias V = SIMD8<Float>
        let n = x.count
        guard n > 0, let base = x.baseAddress else { return 0 }
        let divisor = Double(max(count ?? n, n))
        let inv = V(repeating: q.inverseScales[0]), s = V(repeating: q.scales[0])
        let z = V(repeating: q.zeroPoints[0])
        let lo = V(repeating: Float(q.qmin)), hi = V(repeating: Float(q.qmax))
        let mode: Int = p == 2 ? 2 : p == 3 ? 3 : p == 4 ? 4 : 0
        let pf = Float(p)
        let stepPower = Foundation.pow(Double(q.scales[0]), p)
        var total = 0.0
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i < n {
            let blockEnd = min(n, i &+ 1024)
            var acc = V(repeating: 0)
            while i &+ 8 <= blockEnd {
                let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: V.self)
                let c = VectorPower.clamp(v * inv + z, lo, hi).rounded(.toNearestOrEven)
                let d = (c - z) * s - v
                let e2 = d * d
                switch mode {
                case 2: acc += e2
                case 3: acc += e2 * VectorPower.magnitude(d)
                case 4: acc += e2 * e2
                default: acc += VectorPower.power(d * inv, pf)  // in steps: |log| stays small, so exp keeps its precision
                }
                i &+= 8
            }
            var tail = 0.0
            while i < blockEnd {
                let v = base[i]
                let c = min(max(v * q.inverseScales[0] + q.zeroPoints[0], Float(q.qmin)), Float(q.qmax)).rounded(.toNearestOrEven)
                let d = Double(abs((c - q.zeroPoints[0]) * q.scales[0] - v))
                tail += Foundation.pow(d, p)
                i &+= 1
            }
            // Fractional p summed |d / s|^p; scale back by s^p (in Double).
            total += (mode == 0 ? Double(acc.sum()) * stepPower : Double(acc.sum())) + tail
        }
        return total / divisor
    }
}

@inline(__always) private func Tensor_count(_ shape: [Int]) -> Int { shape.reduce(1, *) }
