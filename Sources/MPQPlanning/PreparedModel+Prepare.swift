import Foundation
import MPQExecutor
import MPQGraph
import MPQPlanner
import MPQQuantization
import MPQSensitivity

extension PreparedModel {
    /// Layer op types the profile can mark float-only as whole groups; other float-only ops keep their inputs in float.
    static let layerOpTypes: Set<String> = ["Conv", "DepthwiseConv", "Gemm", "MatMul", "Gather"]

    /// Stage 1 of a plan: loads the model and data, groups the quantizers, and costs every layer.
    public static func prepare(_ request: PlanRequest) throws -> PreparedModel {
        let graph = try LoadedModel(path: request.model).graph.withExplicitBiases()
        // --calib-samples applies before reading: samples beyond it are never loaded.
        let allCalibration = try LabelledData(data: request.calibration, labels: request.labels, graph: graph,
                                              maxSamples: request.calibrationSamples)
        let calibration = request.calibrationSamples.map { allCalibration.prefix($0) } ?? allCalibration
        if request.loss.needsLabels && calibration.labels == nil { throw InputProblem("the cross-entropy loss needs calibration labels") }
        let profile = request.profile
        let policy = QuantizationPolicy(keepFirstAndLastLayersFloat: request.keepFirstLast, perChannelWeights: true,
                                        floatOps: QuantizationPolicy.defaultFloatOps.union(profile.floatOnlyOpTypes.subtracting(layerOpTypes)))
        let tensors = try policy.tensors(in: graph)
        let allGroups = try QuantizerGrouping(graph: graph, tensors: tensors, equalPrecisionOps: profile.equalPrecisionInputs,
                                              floatTensors: Set(try policy.floatTensors(in: graph).map(\.name)))
        let costs = try LayerCostTable(graph: graph, tensors: tensors, sampleShapes: calibration.sampleShapes)
        var groups: [PlanningGroup] = []
        var kept: [QuantizerGroup] = []
        var floatOnly: [String] = []
        for group in allGroups.groups {
            guard let allowed = profile.allowedCandidates(forOpTypes: group.opTypes) else {
                floatOnly.append(group.name)
                continue
            }
            guard !allowed.isEmpty else { throw SensitivityError.noCommonCandidate(group: group.name, opTypes: group.opTypes) }
            groups.append(PlanningGroup(name: group.name, layers: group.layers.map(costs.cost), allowedCandidates: allowed))
            kept.append(group)
        }
        let grouping = allGroups.keeping(kept)
        let validation = try request.validation.isEmpty ? nil
            : ValidationSet(data: LabelledData(data: request.validation, labels: request.validationLabels, graph: graph),
                            graph: graph, loss: request.loss, batchSize: request.batchSize)
        let problem = PlanningProblem(candidates: profile.candidates, groups: groups,
                                      sensitivities: groups.map { _ in profile.candidates.map { _ in 0 } }, tiedGroups: grouping.ties)
        return PreparedModel(graph: graph, calibration: calibration, validation: validation, grouping: grouping,
                             floatOnlyGroups: floatOnly, floatTensors: try policy.floatTensors(in: graph), problem: problem)
    }
}

extension QuantizerGrouping {
    /// The grouping restricted to `kept` (in order), with only the ties between groups that remain.
    func keeping(_ kept: [QuantizerGroup]) -> QuantizerGrouping {
        let index = Dictionary(kept.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var grouping = self
        grouping.ties = ties.map { $0.compactMap { index[groups[$0].name] } }.filter { $0.count > 1 }
        grouping.groups = kept
        return grouping
    }
}
