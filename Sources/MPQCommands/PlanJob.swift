import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// The work of `mpq plan`: groups, sensitivities, the ILP, measurement and the Pareto sweep.
struct PlanJob {
    let inputs: PlanInputs
    let loaded: LoadedModel
    let calibration: LabelledData
    let lossKind: CalibrationLoss
    let grouping: QuantizerGrouping
    /// Groups the profile runs only in float (left out of the plan).
    let floatOnlyGroups: [String]
    let problem: PlanningProblem
    var session: CalibrationSession
    var probe: CalibrationSession
    let search: StepSearch
    /// Validation data and its FP32 outputs, when given.
    let validation: (data: LabelledData, reference: Tensor)?

    init(inputs: PlanInputs) throws {
        self.inputs = inputs
        loaded = try LoadedModel(path: inputs.model)
        // Zero biases on bias-less layers change nothing numerically and give refinement a bias to correct.
        let graph = loaded.graph.withExplicitBiases()
        calibration = try LabelledData(data: inputs.calib, labels: inputs.labels, graph: graph)
        lossKind = try inputs.loss.map { name in
            guard let kind = CalibrationLoss(name: name) else { throw UsageProblem("loss '\(name)' is not one of cross-entropy, kl, mse, cosine, sqnr") }
            return kind
        } ?? .klDivergence
        if lossKind.needsLabels && calibration.labels == nil { throw UsageProblem("the cross-entropy loss needs calibration labels") }

        let policy = QuantizationPolicy(keepFirstAndLastLayersFloat: inputs.keepFirstLast, perChannelWeights: true)
        let allGroups = try QuantizerGrouping(graph: graph, tensors: try policy.tensors(in: graph),
                                              equalPrecisionOps: inputs.profile.equalPrecisionInputs)
        let profile = inputs.profile
        // Layer costs per sample, from a batch-1 compile.
        let statsPlan = try ExecutionPlan(graph: graph, inputShapes: calibration.sampleShapes.mapValues { [1] + $0 })
        let stats = Dictionary(statsPlan.layerStatistics().map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let nodes = Dictionary(graph.nodes.map { ($0.displayName, $0) }, uniquingKeysWith: { a, _ in a })
        var groups: [PlanningGroup] = []
        var kept: [QuantizerGroup] = []
        var floatOnly: [String] = []
        for group in allGroups.groups {
            guard let allowed = profile.allowedCandidates(forOpTypes: group.opTypes) else {
                floatOnly.append(group.name)
                continue
            }
            guard !allowed.isEmpty else { throw SensitivityError.noCommonCandidate(group: group.name, opTypes: group.opTypes) }
            let layers = group.layers.map { name -> LayerCost in
                let s = stats[name]
                let node = nodes[name]
                let inputElements = node.flatMap { n in statsPlan.type(of: n.inputs[0]) }.map { $0.count } ?? 0
                let weight = node.flatMap { n in n.inputs.count > 1 ? graph.initializers[n.inputs[1]] : nil }
                return LayerCost(name: name, opType: node.map { QuantizerGrouping.opType(of: $0, graph: graph) } ?? "?",
                                 parameters: weight?.count ?? 0,
                                 outputChannels: s?.outputShape.count ?? 0 > 1 ? s!.outputShape[1] : (s?.outputShape.last ?? 1),
                                 macs: s?.macs ?? 0, inputElements: inputElements,
                                 outputElements: s.map { Tensor.count(of: $0.outputShape) } ?? 0)
            }
            groups.append(PlanningGroup(name: group.name, layers: layers, allowedCandidates: allowed))
            kept.append(group)
        }
        // Keep only ties between groups that remain.
        let index = Dictionary(kept.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let ties = allGroups.ties.map { $0.compactMap { index[allGroups.groups[$0].name] } }.filter { $0.count > 1 }
        var grouping = allGroups
        grouping.groups = kept
        grouping.ties = ties
        self.grouping = grouping
        floatOnlyGroups = floatOnly

        session = try CalibrationSession(graph: graph, inputs: calibration.inputs, batchSize: inputs.batchSize)
        probe = try CalibrationSession(graph: graph, inputs: CalibrationSession.probeInputs(session), batchSize: inputs.batchSize)
        session.reusesActivations = inputs.reuseActivations
        probe.reusesActivations = inputs.reuseActivations
        let outputName = graph.outputs[0].name
        let reference = CalibrationSession.joinedOutputs(session.reference, name: outputName)
        if inputs.val.isEmpty {
            validation = nil
        } else {
            let data = try LabelledData(data: inputs.val, labels: inputs.valLabels, graph: graph)
            let runner = try BatchRunner(graph: graph, sampleShapes: data.sampleShapes, sampleCount: data.sampleCount,
                                         batchSize: inputs.batchSize)
            guard let out = try runner.run(data.inputs)[outputName] else { throw UsageProblem("the model produced no '\(outputName)'") }
            validation = (data, out)
        }
        let labels = calibration.labels
        let kind = lossKind
        var options = StepSearch.Options()
        options.initialization = inputs.stepSearch
        options.joint = nil
        search = StepSearch(options: options, loss: { outputs in
            guard let out = outputs[outputName] else { return .infinity }
            return (try? kind.evaluate(out, reference: reference, labels: labels)) ?? .infinity
        })
        problem = PlanningProblem(candidates: profile.candidates, groups: groups,
                                  sensitivities: groups.map { _ in profile.candidates.map { _ in 0 } }, tiedGroups: ties)
    }

    /// The sensitivity table's cache key: model bytes, data, labels, profile and settings.
    func cacheKey() throws -> (String, [String: String]) {
        var hash = ContentHash()
        hash.combine(try Data(contentsOf: URL(fileURLWithPath: inputs.model)))
        for name in calibration.inputs.keys.sorted() { hash.combine(calibration.inputs[name]!.asFloats) }
        if let labels = calibration.labels { hash.combine(labels) }
        hash.combine(inputs.profileText)
        let settings = "loss=\(lossKind.name);baseline=\(inputs.baseline.rawValue);keepFirstLast=\(inputs.keepFirstLast);batch=\(inputs.batchSize);search=\(search.options.initialization.rawValue);p=\(search.options.pValues);v1"
        hash.combine(settings)
        return (hash.hex, ["model": inputs.model, "profile": inputs.profile.name, "settings": settings,
                           "calibration samples": "\(calibration.sampleCount)"])
    }
}
