/// Which calibration samples rank LAPQ's p values.
public enum PSweepSamples: String, Sendable, Codable, CaseIterable {
    /// The probe (the first 64 calibration samples): each p costs a probe evaluation, and the best few are
    /// evaluated on all calibration data (none when the search `scoresOnProbe`).
    case probe
    /// All calibration samples at every p (the LAPQ paper's sweep; about ten full evaluations per search).
    case all
}
