/// Which calibration samples the sensitivity sweep measures loss increases on.
public enum SensitivitySamples: String, Sendable, Codable, CaseIterable {
    /// Every calibration sample: each candidate's chosen steps get one evaluation on all of them.
    case all
    /// The probe (the first 64 samples), against the probe's own reference loss: no evaluation on all calibration
    /// data in the sweep. The integer program's inputs get noisier; every plan is still measured on all samples.
    case probe
}
