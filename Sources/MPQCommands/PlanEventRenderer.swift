import Foundation
import MPQPlanning

/// Prints a plan's events on stderr: messages as lines, tasks as `Progress` displays.
struct PlanEventRenderer {
    private var task: PlanEvent.Task?
    private var progress: Progress?

    mutating func render(_ event: PlanEvent) {
        switch event {
        case .waitingForSensitivities(let holder, let lock):
            log("sensitivities: waiting for process \(holder.map(String.init) ?? "?"), which is measuring the same table (\(lock))")
        case .sensitivitiesReused(let cache):
            log("sensitivities: reusing \(cache.path)")
        case .sensitivitiesStarted(let missing, let groups, let candidates, let cache):
            log("sensitivities: measuring \(missing) of \(groups) groups × \(candidates) candidates (cache: \(cache.path))")
        case .progress(let task, let done, let total):
            if task != self.task || progress == nil {
                self.task = task
                progress = Progress(label: Self.label(task), total: total)
            }
            progress?.update(done, of: total)
        case .uniformMeasured(let candidate, let loss):
            log("measured uniform \(candidate): loss \(String(format: "%.4f", loss))")
        case .paretoMeasured(let proposals, let budgets, let plans, let measuredBefore, let onFront):
            let known = measuredBefore > 0 ? "\(plans - measuredBefore) newly measured, \(measuredBefore) known" : "all newly measured"
            log("Pareto sweep: \(proposals) proposals at \(budgets) budgets, \(plans) distinct plans (\(known)), \(onFront) on the measured front")
        case .paddingTrimmed(let data, let run, let total):
            let share = Int((100 * Double(run) / Double(max(total, 1))).rounded())
            log("\(data): padded sequences batched by length and cut to each batch's longest: \(run) of \(total) token positions run (\(share) %)")
        case .phaseFinished:
            break
        }
    }

    static func label(_ task: PlanEvent.Task) -> String {
        switch task {
        case .sensitivities: return "sensitivity"
        case .proposalsAtBudget(let count): return "measuring \(count) proposals at the budget"
        case .paretoProposals: return "measuring Pareto proposals"
        case .frontValidation: return "validating the measured front"
        case .refinement: return "refining"
        case .greedyBaseline: return "measuring greedy baseline"
        }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
}
