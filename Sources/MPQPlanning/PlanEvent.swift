import Foundation

/// Progress of a plan, reported to the caller's handler as it happens (the CLI prints it on stderr).
public enum PlanEvent: Sendable, Equatable {
    /// Long work that reports how far it got.
    public enum Task: Sendable, Equatable {
        /// The sensitivity sweep, in groups.
        case sensitivities
        /// Measuring the ILP's proposals at the plan's budget.
        case proposalsAtBudget(count: Int)
        /// Measuring the Pareto sweep's proposals not measured before.
        case paretoProposals
        /// The validation runs of the plans reported beside the measured front (the front and the best plan).
        case frontValidation
        /// Joint refinement of the chosen plan, in loss evaluations.
        case refinement
        /// Measuring the greedy baseline's points.
        case greedyBaseline
    }

    /// Another process (pid `holder`) is measuring the same sensitivity table; this one waits for it.
    case waitingForSensitivities(holder: Int32?, lock: String)
    /// The stored sensitivity table at `cache` is complete and reused.
    case sensitivitiesReused(cache: URL)
    /// The sweep starts (or resumes): `missingGroups` of `groups` are measured at up to `candidates` candidates each.
    case sensitivitiesStarted(missingGroups: Int, groups: Int, candidates: Int, cache: URL)
    /// `done` of `total` units of `task` finished (`done` 0 when it starts).
    case progress(Task, done: Int, total: Int)
    /// A uniform-precision point was measured.
    case uniformMeasured(candidate: String, loss: Double)
    /// The Pareto sweep is measured: proposals over all budget values, distinct plans (`measuredBefore` of them
    /// were measured before the sweep: by earlier runs, an interrupted one, or this run's earlier stages), plans on
    /// the measured front.
    case paretoMeasured(proposals: Int, budgets: Int, plans: Int, measuredBefore: Int, onFront: Int)
    /// Padded token sequences of `data` ("calibration", "validation") run in batches of similar lengths, each cut
    /// to its longest sequence: `run` of the data's `total` token positions are computed.
    case paddingTrimmed(data: String, run: Int, total: Int)
    /// A phase ended after `seconds` of wall time.
    case phaseFinished(PlanPhase, seconds: Double)
}

/// Receives a plan's events, on the thread that runs the plan.
public typealias PlanEventHandler = (PlanEvent) -> Void
