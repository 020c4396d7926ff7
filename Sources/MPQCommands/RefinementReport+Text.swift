import MPQPlanning

extension RefinementReport {
    /// When the held-out loss last improved, for the summary lines (nil when the refinement had no held-out samples).
    var heldOutGainText: String? {
        heldOutGains.map { gains in gains.last.map { "last held-out gain at evaluation \($0)" } ?? "no held-out gain" }
    }
}
