import ArgumentParser
import Foundation
import MPQExecutor
import MPQGraph
import MPQPlanning

/// `mpq inspect MODEL`: the layer table of a model.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a model's layers with weight shapes, parameters, MACs and activation shapes."
    )

    @Argument(help: "The ONNX model.")
    var model: String

    @Option(name: .customLong("input-shape"), help: "An input's shape including the batch axis, as NAME=D0,D1,... (for inputs with non-batch dimensions that are not fixed).")
    var inputShapes: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Report: Codable {
        var model: String
        var opset: Int
        var producer: String
        var inputs: [String: [Int]]
        var layers: [LayerStatistics]
        var totalParameters: Int
        var totalMACs: Int
        var folded: [String: Int]
    }

    /// The inspection report for a model (what `run` prints).
    static func makeReport(model: String, inputShapes: [String] = []) throws -> Report {
        let loaded = try LoadedModel(path: model)
        let sample = try loaded.sampleShapes(overrides: inputShapes)
        // A model that fixes its batch size may bake it into shapes (a Reshape's target): compile at that size.
        let batch = loaded.graph.fixedBatchSize ?? 1
        let plan = try ExecutionPlan(graph: loaded.graph, inputShapes: sample.mapValues { [batch] + $0 })
        let layers = plan.layerStatistics().map { layer in
            var perSample = layer
            perSample.macs /= batch
            return perSample
        }
        return Report(
            model: model, opset: loaded.graph.opsetVersion, producer: loaded.onnx.producer,
            inputs: sample.mapValues { [batch] + $0 }, layers: layers,
            totalParameters: layers.reduce(0) { $0 + $1.parameters },
            totalMACs: layers.reduce(0) { $0 + $1.macs },
            folded: ["identities": loaded.optimization.removedIdentities,
                     "constants": loaded.optimization.foldedConstants,
                     "batchNorms": loaded.optimization.foldedBatchNorms])
    }

    func run() throws {
        let report = try Self.makeReport(model: model, inputShapes: inputShapes)
        let layers = report.layers
        if json {
            print(try JSONOutput.encode(report))
            return
        }
        print("\(model): opset \(report.opset), \(layers.count) nodes after folding \(report.folded["batchNorms"]!) BatchNorm, \(report.folded["constants"]!) constant and \(report.folded["identities"]!) Identity/Dropout nodes")
        var table = TextTable(header: ["name", "op", "weight shape", "params", "MACs", "activation shape"])
        table.numericColumns = [3, 4]
        func dims(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
        for l in layers {
            table.rows.append([l.name, l.opType, l.weightShape.map(dims) ?? "-", l.parameters > 0 ? grouped(l.parameters) : "-",
                               l.macs > 0 ? grouped(l.macs) : "-", dims(l.outputShape)])
        }
        table.rows.append(["total", "", "", grouped(report.totalParameters), grouped(report.totalMACs), "per sample"])
        print(table.render())
    }
}
