import Dispatch
import MPQGraph

extension ExecutionPlan {
    /// Runs the graph once and returns the wall time spent in each op type, in seconds.
    public func profile(_ inputs: [String: Tensor]) throws -> [String: Double] {
        var values = [Tensor?](repeating: nil, count: valueNames.count)
        for (s, t) in constants { values[s] = t }
        for (i, s) in inputSlots.enumerated() { values[s] = inputs[graph.inputs[i].name] }
        var times: [String: Double] = [:]
        for step in steps {
            let args = step.inputs.map { $0.flatMap { values[$0] } }
            let start = DispatchTime.now().uptimeNanoseconds
            let outputs = try step.op.run(args)
            times[step.node.opType, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for (k, s) in step.outputs.enumerated() where s >= 0 && k < outputs.count { values[s] = outputs[k] }
        }
        return times
    }
}
