import Foundation
import MPQGraph
import MPQONNX
import MPQPlanning

extension LoadedModel {
    /// Each input's shape without the batch axis, from the model's declaration or `overrides`
    /// (`name=d0,d1,...`, including the batch axis, which is dropped).
    func sampleShapes(overrides: [String]) throws -> [String: [Int]] {
        var given: [String: [Int]] = [:]
        for text in overrides {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let dims = parts.count == 2 ? parts[1].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) } : []
            guard parts.count == 2, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw UsageProblem("--input-shape '\(text)' should look like NAME=1,3,224,224 with positive sizes")
            }
            guard graph.inputs.contains(where: { $0.name == parts[0] }) else {
                throw UsageProblem("--input-shape names '\(parts[0])', but the model's inputs are: \(graph.inputs.map(\.name).joined(separator: ", "))")
            }
            given[parts[0]] = dims.compactMap { $0 }
        }
        var shapes: [String: [Int]] = [:]
        let declared = ONNXModel.concreteShapes(of: graph, batch: 1)
        for input in graph.inputs {
            if let g = given[input.name] {
                shapes[input.name] = Array(g.dropFirst())
            } else {
                switch declared {
                case .success(let s): shapes[input.name] = Array(s[input.name]!.dropFirst())
                case .failure(let problem): throw problem
                }
            }
        }
        return shapes
    }
}
