import Foundation
import MPQGraph
import MPQLAPQ

extension PlanFile {
    /// Checks every tensor record on its own: finite positive scales, one zero point per scale, a sane bit-width
    /// and code range, a non-negative axis. Export and refinement would otherwise write or optimise garbage
    /// (a zero scale used to be exported as 1.0; negative scales were refined).
    func validateRecords(path: String) throws {
        for (i, r) in tensors.enumerated() {
            let at = "\(path): tensors[\(i)] ('\(r.name)')"
            guard !r.scales.isEmpty, r.scales.count == r.zeroPoints.count else {
                throw InputProblem("\(at): has \(r.scales.count) scales and \(r.zeroPoints.count) zero points; both must be the same non-zero count")
            }
            if let j = r.scales.firstIndex(where: { !($0.isFinite && $0 > 0 && $0.isNormal) }) {
                throw InputProblem("\(at): scale \(r.scales[j]) at index \(j); scales must be finite and positive")
            }
            guard (2...16).contains(r.bits), r.qmin < r.qmax else {
                throw InputProblem("\(at): bits \(r.bits) with codes \(r.qmin)...\(r.qmax); bits must be 2...16 and qmin below qmax")
            }
            if let j = r.zeroPoints.firstIndex(where: { $0 < r.qmin || $0 > r.qmax }) {
                throw InputProblem("\(at): zero point \(r.zeroPoints[j]) at index \(j) lies outside the codes \(r.qmin)...\(r.qmax)")
            }
            if let axis = r.axis, axis < 0 {
                throw InputProblem("\(at): axis \(axis) is negative; per-channel axes count from 0")
            }
            if r.axis == nil, r.scales.count != 1 {
                throw InputProblem("\(at): \(r.scales.count) scales but no axis; a per-tensor quantizer has one scale")
            }
            guard r.multiplier.isFinite, r.multiplier > 0 else {
                throw InputProblem("\(at): multiplier \(r.multiplier) must be finite and positive")
            }
        }
        for (name, values) in correctedBiases {
            if let j = values.firstIndex(where: { !$0.isFinite }) {
                throw InputProblem("\(path): correctedBiases['\(name)'] holds \(values[j]) at index \(j); biases must be finite")
            }
        }
    }

    /// Checks the plan against the model it is applied to: every quantized tensor and corrected bias exists,
    /// and a per-channel axis lies inside the weight's rank with one scale per channel.
    public func validate(against graph: Graph, path: String) throws {
        var names = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
        for node in graph.nodes { names.formUnion(node.outputs) }
        for (i, r) in tensors.enumerated() {
            let at = "\(path): tensors[\(i)]"
            guard names.contains(r.name) else {
                throw InputProblem("\(at): tensor '\(r.name)' does not exist in the model \(model); was the plan made for another model?")
            }
            guard let axis = r.axis else { continue }
            guard let shape = graph.initializers[r.name]?.shape else {
                throw InputProblem("\(at): tensor '\(r.name)' has a per-channel axis \(axis) but is not a weight of the model")
            }
            guard axis < shape.count, shape[axis] == r.scales.count else {
                throw InputProblem("\(at): tensor '\(r.name)' of shape \(shape) has no axis \(axis) with \(r.scales.count) channels")
            }
        }
        for (name, values) in correctedBiases {
            guard let bias = graph.initializers[name] else {
                throw InputProblem("\(path): correctedBiases names '\(name)', which is not an initializer of the model")
            }
            guard Tensor.count(of: bias.shape) == values.count else {
                throw InputProblem("\(path): correctedBiases['\(name)'] has \(values.count) values but the model's bias has shape \(bias.shape)")
            }
        }
    }
}
