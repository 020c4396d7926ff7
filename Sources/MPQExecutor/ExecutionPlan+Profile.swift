import Dispatch
import MPQGraph

extension ExecutionPlan {
    /// The wall time of one step of a profiled run.
    public struct StepTime: Sendable {
        /// The node's display name.
        public var node: String
        /// The node's op type (after fusion, e.g. a Conv with a fused Clip is a Conv).
        public var opType: String
        /// The shape of the step's first output.
        public var outputShape: [Int]
        public var seconds: Double
    }

    /// Runs the graph once, step by step, and returns each step's wall time in execution order (channel-blocked, as
    /// an unhooked `run`; a step's time includes copying its blocked inputs to NCHW).
    public func stepTimes(_ inputs: [String: Tensor]) throws -> [StepTime] {
        var values = [Tensor?](repeating: nil, count: valueNames.count)
        for (s, t) in constants { values[s] = t }
        for (i, s) in inputSlots.enumerated() { values[s] = inputs[graph.inputs[i].name] }
        var times: [StepTime] = []
        for step in channelBlockedSteps where !step.isFusedAway {
            let args = step.inputs.map { $0.flatMap { values[$0] } }
            let start = DispatchTime.now().uptimeNanoseconds
            let outputs = try step.op.run(args.unblocking(step.unblockInputs))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            times.append(StepTime(node: step.node.displayName, opType: step.node.opType,
                                  outputShape: outputs.first?.shape ?? [], seconds: seconds))
            for (k, s) in step.outputs.enumerated() where s >= 0 && k < outputs.count { values[s] = outputs[k] }
        }
        return times
    }

    /// Runs the graph once and returns the wall time spent in each op type, in seconds.
    public func profile(_ inputs: [String: Tensor]) throws -> [String: Double] {
        try stepTimes(inputs).reduce(into: [:]) { $0[$1.opType, default: 0] += $1.seconds }
    }
}
