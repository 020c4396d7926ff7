import Foundation

/// Wall time per phase, reported as each phase ends.
struct PhaseClock {
    private var last = Date()
    private(set) var seconds: [PlanPhase: Double] = [:]
    let onEvent: PlanEventHandler

    init(onEvent: @escaping PlanEventHandler) { self.onEvent = onEvent }

    /// Ends `phase`: the time since the previous lap is added to it.
    mutating func lap(_ phase: PlanPhase) {
        let now = Date()
        let elapsed = now.timeIntervalSince(last)
        seconds[phase, default: 0] += elapsed
        last = now
        onEvent(.phaseFinished(phase, seconds: elapsed))
    }
}
