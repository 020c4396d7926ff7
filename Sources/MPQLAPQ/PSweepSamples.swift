/// Which calibration samples rank LAPQ's p values.
public enum PSweepSamples: String, Sendable, Codable, CaseIterable {
    /// The probe (the first batch, at most 64 samples): each p costs a probe evaluation, and only the chosen p is
    /// evaluated on all calibration data.
    case probe
    /// All calibration samples at every p (the LAPQ paper's sweep; about ten full evaluations per search).
    case all
}
