import Foundation

extension StepSearch {
    /// The p sweep's shared state: p indices handed out in order, each p's result, and the best state so far
    /// (lowest loss, lowest index on ties), so only one state per worker and the best are ever held.
    final class PSweep: @unchecked Sendable {
        private let lock = NSLock()
        private var sampled: [(p: Double, quantizers: [TensorQuantizer], loss: Double)?]
        private var best: (index: Int, loss: Double, state: CalibrationSession.State)?
        private var next = 0
        private(set) var done = 0
        private var failure: Error?

        init(count: Int) { sampled = Array(repeating: nil, count: count) }

        func claim() -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard failure == nil, next < sampled.count else { return nil }
            next += 1
            return next - 1
        }

        func record(_ k: Int, p: Double, quantizers: [TensorQuantizer], loss: Double, state: CalibrationSession.State) {
            lock.lock()
            defer { lock.unlock() }
            sampled[k] = (p, quantizers, loss)
            done += 1
            if best.map({ loss < $0.loss || (loss == $0.loss && k < $0.index) }) ?? true { best = (k, loss, state) }
        }

        func fail(_ error: Error) {
            lock.lock()
            if failure == nil { failure = error }
            lock.unlock()
        }

        func result() throws -> (sampled: [(p: Double, quantizers: [TensorQuantizer], loss: Double)], best: Int, state: CalibrationSession.State) {
            lock.lock()
            defer { lock.unlock() }
            if let failure { throw failure }
            guard let best else { throw StepSearchError.missingActivation("(no p value swept)") }
            return (sampled.map { $0! }, best.index, best.state)
        }
    }
}
