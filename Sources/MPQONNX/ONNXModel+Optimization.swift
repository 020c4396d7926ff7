import MPQExecutor
import MPQGraph

extension ONNXModel {
    /// The model's graph after load-time simplification (Identity removal, constant and BatchNorm folding).
    public func optimizedGraph() throws -> (Graph, GraphOptimizer.Report) {
        try GraphOptimizer().optimize(graph)
    }

    /// Input shapes with every symbolic or unknown dimension set to `batch` when it is the first
    /// axis; nil, and the offending input, when another dimension is not fixed.
    public static func concreteShapes(of graph: Graph, batch: Int) -> Result<[String: [Int]], ShapeProblem> {
        var shapes: [String: [Int]] = [:]
        for input in graph.inputs {
            guard let dims = input.shape else { return .failure(ShapeProblem(input: input)) }
            var shape: [Int] = []
            for (axis, d) in dims.enumerated() {
                switch d {
                case .fixed(let n): shape.append(n)
                case .symbolic, .unknown:
                    guard axis == 0 else { return .failure(ShapeProblem(input: input)) }
                    shape.append(batch)
                }
            }
            shapes[input.name] = shape
        }
        return .success(shapes)
    }

    /// A graph input whose shape cannot be made concrete from a batch size alone.
    public struct ShapeProblem: Error, CustomStringConvertible {
        public let input: ValueInfo
        public var description: String {
            "input '\(input.name)' has shape \(input.shapeDescription) with a non-batch dimension that is not fixed; give it with --input-shape \(input.name)=D0,D1,..."
        }
    }
}
