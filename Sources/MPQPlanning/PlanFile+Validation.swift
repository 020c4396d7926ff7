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
            // Zero is allowed here only for a weight channel that is all zeros (checked against the model).
            if let j = r.scales.firstIndex(where: { !($0.isFinite && ($0 == 0 || ($0 > 0 && $0.isNormal))) }) {
                throw InputProblem("\(at): scale \(r.scales[j]) at index \(j); scales must be positive and finite")
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

    /// Checks the plan against the model it is applied to (`modelPath`, by default the plan's own): every quantized
    /// tensor and corrected bias exists, and a per-channel axis lies inside the weight's rank with one scale per channel.
    public func validate(against graph: Graph, modelPath: String? = nil, path: String) throws {
        let model = modelPath ?? self.model
        var names = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
        for node in graph.nodes { names.formUnion(node.outputs) }
        for (i, r) in tensors.enumerated() {
            let at = "\(path): tensors[\(i)]"
            guard names.contains(r.name) else {
                throw InputProblem("\(at): tensor '\(r.name)' does not exist in the model \(model); was the plan made for another model?")
            }
            try checkZeroScales(r, at: at, graph: graph)
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

    /// A zero scale is what mpq writes for a weight channel that is all zeros (a padding embedding row); anywhere
    /// else it would divide by zero in QuantizeLinear, so it is refused.
    private func checkZeroScales(_ r: QuantizerRecord, at: String, graph: Graph) throws {
        guard let j = r.scales.firstIndex(of: 0) else { return }
        let refuse = InputProblem("\(at): scale 0.0 at index \(j); scales must be positive (zero only for a weight channel that is all zeros)")
        guard let weight = graph.initializers[r.name], let values = weight.floats else { throw refuse }
        let axis = r.axis ?? 0
        guard r.axis == nil || (axis < weight.shape.count && weight.shape[axis] == r.scales.count) else { return }  // reported below
        let channels = r.axis == nil ? 1 : weight.shape[axis]
        let inner = r.axis == nil ? values.count : weight.shape[(axis + 1)...].reduce(1, *)
        let outer = r.axis == nil ? 1 : weight.shape[..<axis].reduce(1, *)
        for (c, scale) in r.scales.enumerated() where scale == 0 {
            for o in 0..<outer {
                let start = (o * channels + c) * inner
                if values[start..<(start + inner)].contains(where: { $0 != 0 }) {
                    throw InputProblem("\(at): scale 0.0 at index \(c), but that channel of the weight is not all zeros; scales must be positive")
                }
            }
        }
    }
}
