/// Progress reported to the ``PowellMinimizer`` callback after each sweep (before the stopping tests,
/// as in the reference).
public struct PowellProgress: Sendable {
    /// 1-based sweep number.
    public var iteration: Int
    /// Current point in caller units.
    public var x: [Double]
    /// f(x).
    public var value: Double
    /// Evaluations so far.
    public var evaluations: Int
    /// The direction set used in this sweep, in optimisation (scaled) units.
    public var directions: [[Double]]
}

/// What happened in one sweep (recorded when ``PowellOptions/recordTrace`` is on).
public struct PowellIterationRecord: Sendable {
    /// 1-based sweep number.
    public var iteration: Int
    /// fx: the value at the start of the sweep.
    public var valueAtStart: Double
    /// fval: the value after the line searches of the sweep (before any extra line search).
    public var valueAfterSweep: Double
    /// delta: the largest single decrease among the sweep's line searches.
    public var largestDecrease: Double
    /// bigind: index of the direction that gave ``largestDecrease``.
    public var largestDecreaseIndex: Int
    /// The direction set used in the sweep (scaled units).
    public var directionsUsed: [[Double]]
    /// fx2 = f(2x − x_old); nil when the run stopped before extrapolating.
    public var extrapolatedValue: Double?
    /// t = 2(fx + fx2 − 2fval)(fx − fval − delta)² − delta(fx − fx2)²; nil unless fx > fx2.
    public var replacementCriterion: Double?
    /// True when direction `bigind` was replaced by the last one and the last by the new direction.
    public var replacedDirection: Bool
    /// The direction set after the sweep's update (scaled units).
    public var directionsAfter: [[Double]]
    /// The value at the end of the iteration (after the extra line search when there was one).
    public var valueAtEnd: Double
}

/// Result of ``PowellMinimizer/minimize(_:from:callback:)``.
public struct PowellResult: MinimizationOutcome, Sendable {
    /// Best accepted point in caller units.
    public var x: [Double]
    /// f(x).
    public var value: Double
    /// Completed sweeps.
    public var iterations: Int
    /// Exact number of objective evaluations.
    public var evaluations: Int
    /// Why the run stopped.
    public var stopReason: StopReason
    /// Final direction set, in optimisation (scaled) units: multiply component i by ``scales``[i]
    /// for caller units.
    public var directions: [[Double]]
    /// The scale vector that was used (all ones without scaling).
    public var scales: [Double]
    /// Per-sweep records when ``PowellOptions/recordTrace`` is on, else empty.
    public var trace: [PowellIterationRecord]
}
