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
    /// Layer outputs the policy keeps in float because they feed a float-only op.
    let floatTensors: [QuantizationPolicy.FloatTensor]
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
        let allCalibration = try LabelledData(data: inputs.calib, labels: inputs.labels, graph: graph)
        calibration = inputs.calibSamples.map { allCalibration.prefix($0) } ?? allCalibration
        lossKind = try inputs.loss.map { name in
            guard let kind = CalibrationLoss(name: name) else { throw UsageProblem("loss '\(name)' is not one of cross-entropy, kl, mse, cosine, sqnr") }
            return kind
        } ?? .klDivergence
        if lossKind.needsLabels && calibration.labels == nil { throw UsageProblem("the cross-entropy loss needs calibration labels") }

        let profile = inputs.profile
        // Float-only layer op types become float-only groups below; other float-only ops keep their inputs in float.
        let layerOpTypes: Set<String> = ["Conv", "DepthwiseConv", "Gemm", "MatMul", "Gather"]
        let policy = QuantizationPolicy(keepFirstAndLastLayersFloat: inputs.keepFirstLast, perChannelWeights: true,
                                        floatOps: QuantizationPolicy.defaultFloatOps.union(profile.floatOnlyOpTypes.subtracting(layerOpTypes)))
        let tensors = try policy.tensors(in: graph)
        floatTensors = try policy.floatTensors(in: graph)
        let allGroups = try QuantizerGrouping(graph: graph, tensors: tensors, equalPrecisionOps: profile.equalPrecisionInputs)
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
                // Activations read: every non-constant input (both operands of an activation-activation MatMul).
                let inputElements = node.map { n in
                    n.inputs.filter { !$0.isEmpty && graph.initializers[$0] == nil }
                        .compactMap { statsPlan.type(of: $0)?.count }.reduce(0, +)
                } ?? 0
                let weightEntry = tensors.first { $0.role != .activation && $0.layers.contains(name) }
                let weight = weightEntry.flatMap { graph.initializers[$0.name] }
                // Per-channel scales: one per slice along the weight's channel axis.
                var channels = s?.outputShape.count ?? 0 > 1 ? s!.outputShape[1] : (s?.outputShape.last ?? 1)
                if case .weight(let axis?)? = weightEntry?.role, let w = weight, axis < w.rank { channels = w.shape[axis] }
                return LayerCost(name: name, opType: node.map { QuantizerGrouping.opType(of: $0, graph: graph) } ?? "?",
                                 parameters: weight?.count ?? 0,
                                 outputChannels: channels,
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
        let settings = "loss=\(lossKind.name);baseline=\(inputs.baseline.rawValue);keepFirstLast=\(inputs.keepFirstLast);batch=\(inputs.batchSize);search=\(search.options.initialization.rawValue);p=\(search.options.pValues);int32Biases=\(search.options.int32Biases);v4"
        hash.combine(settings)
        return (hash.hex, ["model": inputs.model, "profile": inputs.profile.name, "settings": settings,
                           "calibration samples": "\(calibration.sampleCount)"])
    }
}
