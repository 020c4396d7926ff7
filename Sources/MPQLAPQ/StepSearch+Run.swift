import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQOptimize
import MPQQuantization

/// Held-out calibration samples and their loss, for stopping a joint search before it over-fits.
public struct Holdout {
    public var session: CalibrationSession
    public var loss: @Sendable ([String: Tensor]) -> Double

    public init(session: CalibrationSession, loss: @escaping @Sendable ([String: Tensor]) -> Double) {
        self.session = session
        self.loss = loss
    }
}

/// The outcome of a step search: quantizers with their steps, the final multipliers, the loss.
public struct StepSearchResult: Sendable {
    public var quantizers: [TensorQuantizer]
    /// Multiplier per quantizer on its base steps (1 unless a joint search moved it).
    public var multipliers: [Double]
    public var loss: Double
    public var report: StepSearch.Report
    /// The session state of the final settings (to re-run from).
    public var state: CalibrationSession.State
    /// The bias correction in effect for these steps (refinement drops it when it does not help).
    public var biasCorrection: BiasCorrectionPlan? = nil

    /// Quantizers taken as they are (found elsewhere, e.g. composed from a sensitivity sweep), with the loss and
    /// state of their evaluation: no sweep, every multiplier 1.
    public static func unsearched(_ quantizers: [TensorQuantizer], loss: Double, state: CalibrationSession.State,
                                  initialization: StepSearch.Initialization) -> StepSearchResult {
        let report = StepSearch.Report(initialization: initialization, sweep: [], pStar: nil, fitFallback: nil,
                                       lossAfterInitialization: loss)
        return StepSearchResult(quantizers: quantizers, multipliers: quantizers.map { _ in 1 }, loss: loss, report: report, state: state)
    }
}

extension StepSearch {
    /// Hook settings for quantizers at multipliers: fake quantization of each tensor, bias correction
    /// when a plan is given, and every bias whose layer's weight and input are both quantized put on its
    /// int32 grid (`biases`; `BiasQuantization.none` keeps biases float).
    public static func settings(_ quantizers: [TensorQuantizer], multipliers: [Double]? = nil,
                                biasCorrection: BiasCorrectionPlan? = nil, biases: BiasQuantization) -> [String: QuantizerSetting] {
        var settings: [String: QuantizerSetting] = [:]
        var parameters: [String: QuantizerParameters] = [:]
        for (i, q) in quantizers.enumerated() { parameters[q.name] = q.parameters(multiplier: multipliers?[i] ?? 1) }
        let fitted = biases.fittingInt32Biases(parameters)
        for (i, q) in quantizers.enumerated() {
            let m = multipliers?[i] ?? 1
            settings[q.name] = fitted[q.name] == parameters[q.name] ? q.setting(multiplier: m) : TensorQuantizer.setting(fitted[q.name]!)
            if q.role == .weight, let (bias, setting) = biasCorrection?.setting(for: q, multiplier: m) {
                settings[bias] = setting
            }
        }
        parameters = fitted
        for (bias, grid) in biases.grids(parameters) {
            settings[bias] = .int32Bias(grid, after: settings[bias])
        }
        return settings
    }

    /// Hook settings for a plan file's quantizers (final steps) with its corrected biases (float, by
    /// name) in place of the graph's, then on their int32 grids: the model `QDQExporter` writes for the
    /// same quantizers and corrected biases.
    public static func settings(_ quantizers: [TensorQuantizer], correctedBiases: [String: Tensor],
                                biases: BiasQuantization) -> [String: QuantizerSetting] {
        let base = Dictionary(quantizers.map { ($0.name, $0.base) }, uniquingKeysWith: { a, _ in a })
        let parameters = biases.fittingInt32Biases(base)
        var settings: [String: QuantizerSetting] = [:]
        for q in quantizers {
            settings[q.name] = parameters[q.name] == base[q.name] ? q.setting() : TensorQuantizer.setting(parameters[q.name]!)
        }
        for (name, bias) in correctedBiases {
            settings[name] = QuantizerSetting(key: "corrected " + QuantizerSetting.keyPart(bias.asFloats)) { _ in bias }
        }
        for (bias, grid) in biases.grids(parameters) {
            settings[bias] = .int32Bias(grid, after: settings[bias])
        }
        return settings
    }

    /// The biases this search puts on their int32 grid in `graph` (none when `options.int32Biases` is off).
    public func biases(in graph: Graph) -> BiasQuantization {
        options.int32Biases ? BiasQuantization(graph: graph) : .none
    }

    /// Runs the search over `targets`: initialization, then (optionally) the joint optimizer.
    ///
    /// `session` evaluates the calibration loss on all calibration data; `probe` (a session on the
    /// first 64 samples) supplies activation statistics with upstream tensors already quantized, and every loss
    /// and the returned state when the search `scoresOnProbe`. `fixed`
    /// quantizers (the rest of the model, at their own steps) are applied throughout but not searched;
    /// they also set the int32 grids of biases whose layer has one searched and one fixed quantizer.
    public func run(_ targets: [QuantizerTarget], session: inout CalibrationSession, probe: inout CalibrationSession,
                    biasCorrection: BiasCorrectionPlan? = nil, base: CalibrationSession.State? = nil,
                    fixed: [TensorQuantizer] = [], holdout: Holdout? = nil) throws -> StepSearchResult {
        var report = Report(initialization: options.initialization, sweep: [], pStar: nil, fitFallback: nil,
                            lossAfterInitialization: .nan, joint: options.joint)
        let biases = self.biases(in: session.graph)
        let searched = Set(targets.map(\.name))
        let fixed = fixed.filter { !searched.contains($0.name) }
        func settings(_ quantizers: [TensorQuantizer], _ multipliers: [Double]?) -> [String: QuantizerSetting] {
            Self.settings(quantizers + fixed, multipliers: multipliers.map { $0 + fixed.map { _ in 1 } },
                          biasCorrection: biasCorrection, biases: biases)
        }
        func evaluate(in session: inout CalibrationSession, _ quantizers: [TensorQuantizer], _ multipliers: [Double]? = nil,
                      from: CalibrationSession.State? = nil) throws -> (Double, CalibrationSession.State) {
            let state = try session.evaluate(settings(quantizers, multipliers), from: from ?? base)
            return (loss(of: state, in: session), state)
        }
        // On the probe: from its own FP32 state (`base` belongs to `session`), by the probe's loss.
        func evaluate(onProbe probe: inout CalibrationSession, _ quantizers: [TensorQuantizer], _ multipliers: [Double]? = nil,
                      from: CalibrationSession.State? = nil) throws -> (Double, CalibrationSession.State) {
            let state = try probe.evaluate(settings(quantizers, multipliers), from: from)
            return (loss(ofBatches: state.outputs, in: probe, using: probeLoss), state)
        }
        let onProbe = scoresOnProbe
        func evaluate(_ quantizers: [TensorQuantizer], _ multipliers: [Double]? = nil,
                      from: CalibrationSession.State? = nil) throws -> (Double, CalibrationSession.State) {
            onProbe ? try evaluate(onProbe: &probe, quantizers, multipliers, from: from)
                : try evaluate(in: &session, quantizers, multipliers, from: from)
        }

        var quantizers: [TensorQuantizer]
        var state: CalibrationSession.State
        var currentLoss: Double
        switch options.initialization {
        case .minMax, .mmse, .bestP where !sweepsP(targets), .quadratic where !sweepsP(targets):
            // One clipping rule, one evaluation.
            let p = unsweptP
            quantizers = try layerwise(targets, p: p, probe: &probe, fixed: fixed, biases: biases)
            (currentLoss, state) = try evaluate(quantizers)
            if options.initialization != .minMax && options.initialization != .mmse { report.pStar = p }
        case .bestP, .quadratic:
            // Only the best state is kept: on a transformer nearly every node is downstream of any
            // quantizer, so each state is a near-full copy of the activations. With a probe loss the p values are
            // ranked on the probe (from its own FP32 state: `base` belongs to `session`).
            let probeLoss = self.probeLoss
            let (sampled, bestIndex, bestState) = try sweepP(targets, session: session, probe: probe, fixed: fixed,
                                                            biases: biases, onProbe: probeLoss != nil) { sessions, q in
                probeLoss == nil ? try evaluate(in: &sessions.0, q) : try evaluate(onProbe: &sessions.1, q)
            }
            report.sweep = sampled.map { [$0.p, $0.loss] }
            // The sampled p to keep: the best one, or the quadratic fit's p* (nil when p* was not sampled).
            var chosen: Int? = bestIndex
            if options.initialization == .quadratic && sampled.count >= 3 {
                let fit = QuadraticFit(p: sampled.map(\.p), loss: sampled.map(\.loss))
                let minimum = fit.minimizer(in: options.pValues.min()!...options.pValues.max()!)
                report.pStar = minimum.p
                report.fitFallback = minimum.fallback?.rawValue
                chosen = sampled.firstIndex { $0.p == minimum.p }
            } else {
                report.pStar = sampled[bestIndex].p
            }
            if chosen == bestIndex && (probeLoss == nil || onProbe) {
                (quantizers, currentLoss, state) = (sampled[bestIndex].quantizers, sampled[bestIndex].loss, bestState)
            } else if probeLoss != nil && !onProbe && options.initialization == .bestP {
                let best = try bestOnAllData(sampled, finalists: options.probeFinalists, report: &report) { try evaluate($0) }
                (quantizers, currentLoss, state) = (sampled[best.index].quantizers, best.loss, best.state)
            } else {
                quantizers = try chosen.map { sampled[$0].quantizers }
                    ?? layerwise(targets, p: report.pStar!, probe: &probe, fixed: fixed, biases: biases)
                (currentLoss, state) = try evaluate(quantizers)
            }
        }
        report.lossAfterInitialization = currentLoss
        var multipliers = [Double](repeating: 1, count: quantizers.count)

        if let joint = options.joint, !quantizers.isEmpty {
            let refined = try jointSearch(joint, quantizers: quantizers, order: coordinateOrder(quantizers, in: session.plan),
                                          start: state, startLoss: currentLoss, evaluate: evaluate,
                                          watch: holdout.map { Self.watch($0, quantizers: quantizers, biasCorrection: biasCorrection, biases: biases) })
            (currentLoss, state, multipliers) = (refined.loss, refined.state, refined.multipliers)
            report.record(refined)
        }
        return StepSearchResult(quantizers: quantizers, multipliers: multipliers, loss: currentLoss, report: report, state: state)
    }

    /// The clipping p when no p is swept: none (min-max), 2 (MMSE), else the largest p (grids too fine to sweep).
    private var unsweptP: Double? {
        switch options.initialization {
        case .minMax: nil
        case .mmse: 2
        case .bestP, .quadratic: options.pValues.max()!
        }
    }

    /// Whether LAPQ's p sweep runs for `targets`: not when every grid has at least `options.unsweptFromBits` bits.
    private func sweepsP(_ targets: [QuantizerTarget]) -> Bool {
        guard let bits = options.unsweptFromBits else { return true }
        return !targets.allSatisfy { $0.grid.bits >= bits }
    }

    /// The probe's best `finalists` p values scored on all data (`evaluate`): the probe ranks them, all data decides
    /// (the first on ties). Records the finalists' losses and the winner's p in `report`.
    private func bestOnAllData(_ sampled: [(p: Double, quantizers: [TensorQuantizer], loss: Double)], finalists count: Int,
                               report: inout Report, evaluate: ([TensorQuantizer]) throws -> (Double, CalibrationSession.State))
        throws -> (index: Int, loss: Double, state: CalibrationSession.State) {
        let finalists = sampled.indices.sorted { (sampled[$0].loss, $0) < (sampled[$1].loss, $1) }.prefix(count)
        var best: (index: Int, loss: Double, state: CalibrationSession.State)? = nil
        var rescored: [[Double]] = []
        for k in finalists {
            let (l, s) = try evaluate(sampled[k].quantizers)
            rescored.append([sampled[k].p, l])
            if best.map({ l < $0.loss }) ?? true { best = (k, l, s) }
        }
        report.rescored = rescored
        report.pStar = sampled[best!.index].p
        return best!
    }

    /// LAPQ's p sweep: layer-wise steps at each p and the calibration loss of each, keeping only the best state
    /// (on a transformer each state is a near-full copy of the activations). With `options.pSweepThreads` > 1 the
    /// p values are shared among workers with their own session copies and single-threaded kernels; the best is
    /// the lowest loss, the first p on ties, whatever the thread count. `evaluate` gets a worker's (session, probe).
    func sweepP(_ targets: [QuantizerTarget], session: CalibrationSession, probe: CalibrationSession,
                fixed: [TensorQuantizer], biases: BiasQuantization, onProbe: Bool = false,
                evaluate: (inout (CalibrationSession, CalibrationSession), [TensorQuantizer]) throws -> (Double, CalibrationSession.State))
        throws -> (sampled: [(p: Double, quantizers: [TensorQuantizer], loss: Double)], best: Int, state: CalibrationSession.State) {
        typealias Sample = (p: Double, quantizers: [TensorQuantizer], loss: Double)
        let ps = options.pValues
        let shared = Locked((sampled: [Sample?](repeating: nil, count: ps.count), done: 0,
                             best: (index: Int, loss: Double, state: CalibrationSession.State)?.none))
        try ParallelWork.forEach(ps.count, workers: options.pSweepThreads, state: (session, probe)) { sessions, k in
            let q = try self.layerwise(targets, p: ps[k], probe: &sessions.1, fixed: fixed, biases: biases)
            let (l, s) = try evaluate(&sessions, q)
            let done = shared.withValue { r -> Int in
                r.sampled[k] = (ps[k], q, l)
                r.done += 1
                if r.best.map({ l < $0.loss || (l == $0.loss && k < $0.index) }) ?? true { r.best = (k, l, s) }
                return r.done
            }
            self.progress?(onProbe ? "p sweep (probe)" : "p sweep", done, ps.count)
        }
        return try shared.withValue { r in
            guard let best = r.best else { throw StepSearchError.missingActivation("(no p value swept)") }
            return (r.sampled.map { $0! }, best.index, best.state)
        }
    }

    /// Refines the steps of existing quantizers jointly (LAPQ's last step), from multiplier 1.
    ///
    /// With a bias-correction plan, the search starts from the corrected biases when they do not raise
    /// the loss (on the session's samples and, with a holdout, on the held-out ones) and from the
    /// original ones otherwise (`report.biasCorrected` says which), so the result is never worse than
    /// the quantizers it was given.
    public func refine(_ quantizers: [TensorQuantizer], session: inout CalibrationSession,
                       biasCorrection: BiasCorrectionPlan? = nil, holdout: Holdout? = nil) throws -> StepSearchResult {
        var correction = biasCorrection
        let biases = self.biases(in: session.graph)
        func evaluate(_ q: [TensorQuantizer], _ m: [Double]?, from: CalibrationSession.State?) throws -> (Double, CalibrationSession.State) {
            let state = try session.evaluate(Self.settings(q, multipliers: m, biasCorrection: correction, biases: biases), from: from)
            return (loss(of: state, in: session), state)
        }
        var (startLoss, startState) = try evaluate(quantizers, nil, from: nil)
        var report = Report(initialization: options.initialization, sweep: [], pStar: nil, fitFallback: nil,
                            lossAfterInitialization: startLoss, joint: options.joint ?? .powell)
        if biasCorrection != nil {
            correction = nil
            let (plainLoss, plainState) = try evaluate(quantizers, nil, from: startState)
            // With held-out samples the corrected biases must not be worse there either: the joint search
            // keeps only points better on both parts, so (for a per-sample mean loss) the result is then
            // never worse than the given quantizers on all calibration data.
            let ones = [Double](repeating: 1, count: quantizers.count)
            let worseHeldOut = try holdout.map {
                try Self.watch($0, quantizers: quantizers, biasCorrection: biasCorrection, biases: biases)(ones)
                    > Self.watch($0, quantizers: quantizers, biasCorrection: nil, biases: biases)(ones)
            } ?? false
            if plainLoss < startLoss || worseHeldOut {
                (startLoss, startState) = (plainLoss, plainState)
                report.biasCorrected = false
            } else {
                correction = biasCorrection
                report.biasCorrected = true
            }
        }
        let refined = try jointSearch(options.joint ?? .powell, quantizers: quantizers,
                                      order: coordinateOrder(quantizers, in: session.plan), start: startState,
                                      startLoss: startLoss, evaluate: evaluate,
                                      watch: holdout.map { Self.watch($0, quantizers: quantizers, biasCorrection: correction, biases: biases) })
        report.record(refined)
        return StepSearchResult(quantizers: quantizers, multipliers: refined.multipliers, loss: refined.loss,
                                report: report, state: refined.state, biasCorrection: correction)
    }

    /// Early stopping: the held-out loss of step multipliers (the joint search keeps, among the points
    /// where the fitting loss improved, the one best on held-out data).
    static func watch(_ holdout: Holdout, quantizers: [TensorQuantizer], biasCorrection: BiasCorrectionPlan?,
                      biases: BiasQuantization) -> ([Double]) throws -> Double {
        var session = holdout.session
        // Consecutive watched points differ in a few steps: re-run from the last one's activations.
        // A class box: a captured `var` of this optional struct read garbage in release builds (Swift 6.3).
        let last = Locked(CalibrationSession.State?.none)
        return { m in
            let state = try session.evaluate(settings(quantizers, multipliers: m, biasCorrection: biasCorrection, biases: biases),
                                             from: last.withValue { $0 })
            last.withValue { $0 = state }
            var joined: [String: Tensor] = [:]
            for output in session.graph.outputs {
                joined[output.name] = CalibrationSession.joinedOutputs(state, name: output.name)
            }
            return holdout.loss(joined)
        }
    }

    /// The order of the joint search's coordinates (indices into `quantizers`): as given, or by the nodes an evaluation
    /// along each re-runs, fewest first (`Options.coordinateOrder`); ties keep the given order.
    public func coordinateOrder(_ quantizers: [TensorQuantizer], in plan: ExecutionPlan) -> [Int] {
        guard options.coordinateOrder == .cheapestFirst else { return Array(quantizers.indices) }
        let cost = quantizers.map { plan.downstreamNodes(of: [$0.name]).count }
        return quantizers.indices.sorted { (cost[$0], $0) < (cost[$1], $1) }
    }

    /// Powell or BOBYQA over one step multiplier per quantizer, within the evaluation budget.
    ///
    /// Each evaluation re-runs from the best state so far: Powell's coordinate line searches then
    /// change one quantizer and re-run only the graph downstream of it.
    ///
    /// The optimizer's coordinate k is the multiplier of quantizer `order[k]` (`coordinateOrder`), so Powell's first
    /// sweep visits the quantizers in that order.
    private func jointSearch(_ joint: JointOptimizer, quantizers: [TensorQuantizer], order: [Int], start: CalibrationSession.State,
                             startLoss: Double,
                             evaluate: ([TensorQuantizer], [Double]?, CalibrationSession.State?) throws -> (Double, CalibrationSession.State),
                             watch: (([Double]) throws -> Double)? = nil)
        throws -> JointOutcome {
        precondition(order.sorted() == Array(quantizers.indices), "the coordinate order is not a permutation of the quantizers")
        // Optimizer coordinates to multipliers per quantizer.
        let perQuantizer: ([Double]) -> [Double] = { x in
            var m = [Double](repeating: 1, count: x.count)
            for (k, q) in order.enumerated() { m[q] = x[k] }
            return m
        }
        var bestState = start
        var bestLoss = startLoss
        var multipliers = [Double](repeating: 1, count: quantizers.count)
        var evaluations = 0
        var failure: Error?
        // With a held-out watch, the answer is the improving point that is best on held-out data.
        var watched = (loss: try watch?(multipliers) ?? 0, state: start, fitLoss: startLoss, multipliers: multipliers)
        var heldOutGains: [Int] = []
        let patienceRanOut = { [patience = options.patience] in
            watch != nil && patience.map { evaluations - (heldOutGains.last ?? 0) >= $0 } == true
        }
        let objective: ([Double]) -> Double = { x in
            let m = perQuantizer(x)
            evaluations += 1
            do {
                let (l, s) = try evaluate(quantizers, m, bestState)
                if l < bestLoss {
                    bestLoss = l; bestState = s; multipliers = m
                    if let watch {
                        let h = try watch(m)
                        if h < watched.loss { watched = (h, s, l, m); heldOutGains.append(evaluations) }
                    }
                }
                progress?("joint \(joint.rawValue)", min(evaluations, options.maxEvaluations), options.maxEvaluations)
                return l.isFinite ? l : 1e30
            } catch {
                failure = error
                return 1e30
            }
        }
        let x0 = [Double](repeating: 1, count: quantizers.count)
        switch joint {
        case .powell:
            var powell = PowellOptions(maxIterations: options.maxIterations, maxEvaluations: options.maxEvaluations)
            powell.lowerBounds = [Double](repeating: 0.05, count: x0.count)
            powell.upperBounds = [Double](repeating: 4, count: x0.count)
            if let resolution = options.lineSearchResolution { powell.lineSearchAbsoluteTolerance = resolution }
            let result = PowellMinimizer(options: powell).minimize(objective, from: x0, shouldStop: patienceRanOut)
            // Stopped early: the search ends at the evaluations done, and progress says so (not the unused budget).
            if result.stopReason == .stopRequested {
                progress?("joint \(joint.rawValue)", evaluations, evaluations)
            }
        case .bobyqa:
            var bobyqa = BOBYQAOptions()
            bobyqa.maxEvaluations = options.maxEvaluations
            _ = try BOBYQAMinimizer(dimension: x0.count, options: bobyqa).minimize(objective, from: x0)
        }
        if let failure { throw failure }
        if watch != nil { return (watched.fitLoss, watched.state, watched.multipliers, evaluations, heldOutGains) }
        return (bestLoss, bestState, multipliers, evaluations, nil)
    }
}

/// What a joint search returned: the answer's loss, state and multipliers, and how it got there.
typealias JointOutcome = (loss: Double, state: CalibrationSession.State, multipliers: [Double], evaluations: Int,
                          heldOutGains: [Int]?)

extension StepSearch.Report {
    /// Records a joint search's loss, evaluations, held-out gains and multipliers.
    fileprivate mutating func record(_ joint: JointOutcome) {
        lossAfterJoint = joint.loss
        jointEvaluations = joint.evaluations
        heldOutGains = joint.heldOutGains
        multipliers = joint.multipliers
    }
}
