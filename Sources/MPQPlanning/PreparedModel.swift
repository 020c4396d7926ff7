import MPQGraph
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// A model ready to plan: its graph, calibration and validation data, quantizer groups and the cost of every
/// layer; the planning problem before sensitivities are known.
public struct PreparedModel: Sendable {
    /// The simplified graph, with explicit (zero) biases on bias-less layers for refinement to correct.
    public var graph: Graph
    public var calibration: LabelledData
    public var validation: ValidationSet?
    /// The groups planned (float-only groups left out), with the ties between them.
    public var grouping: QuantizerGrouping
    /// Groups the profile runs only in float.
    public var floatOnlyGroups: [String]
    /// Layer outputs the policy keeps in float because they feed a float-only op.
    public var floatTensors: [QuantizationPolicy.FloatTensor]
    /// Candidates, groups with their layer costs, and ties; sensitivities are zero until the sweep fills them.
    public var problem: PlanningProblem

    public init(graph: Graph, calibration: LabelledData, validation: ValidationSet?, grouping: QuantizerGrouping,
                floatOnlyGroups: [String], floatTensors: [QuantizationPolicy.FloatTensor], problem: PlanningProblem) {
        self.graph = graph
        self.calibration = calibration
        self.validation = validation
        self.grouping = grouping
        self.floatOnlyGroups = floatOnlyGroups
        self.floatTensors = floatTensors
        self.problem = problem
    }

    /// The names of tied groups, per tie.
    public var tiedGroupNames: [[String]] { grouping.ties.map { $0.map { grouping.groups[$0].name } } }

    /// The group a quantized tensor belongs to, or "?".
    public func groupName(of tensor: String) -> String {
        grouping.groups.first { $0.tensors.contains { $0.name == tensor } }?.name ?? "?"
    }
}
