import Foundation
import MPQGraph
import MPQLAPQ
import MPQPlanning
import MPQQuantization

/// Loss (and accuracy, with labels) of model outputs.
struct Evaluation: Codable {
    var loss: Double
    var lossName: String
    var accuracy: Double?

    init(outputs: Tensor, objective: CalibrationObjective) throws {
        loss = try objective.evaluate(outputs)
        lossName = objective.kind.name
        if let labels = objective.labels, outputs.rank == 2, let scores = outputs.floats {
            accuracy = ClassificationMetrics(scores: scores, classes: outputs.shape[1], labels: labels).accuracy
        }
    }
}

/// What `mpq quantize` reports.
struct QuantizeReport: Codable {
    struct Pair: Codable {
        var fp32: Evaluation
        var quantized: Evaluation
    }
    var model: String
    var bits: String
    var method: String
    var loss: String
    var seconds: Double
    var evaluations: Int
    var calibration: Pair
    var validation: Pair?
    var search: StepSearch.Report
    var steps: String

    func printText() {
        print("model: \(model)  bits: \(bits)  method: \(method)  loss: \(loss)")
        if !search.sweep.isEmpty {
            let sweep = search.sweep.map { String(format: "p=%.2f: %.4f", $0[0], $0[1]) }.joined(separator: ", ")
            print("p sweep: \(sweep)")
            if let p = search.pStar {
                print(String(format: "p* = %.3f", p) + (search.fitFallback.map { " (quadratic fit fell back: \($0))" } ?? ""))
            }
        }
        print(String(format: "loss after initialization: %.4f", search.lossAfterInitialization))
        if let after = search.lossAfterJoint, let n = search.jointEvaluations, let joint = search.joint {
            print(String(format: "loss after joint %@: %.4f (%d loss evaluations)", joint.rawValue, after, n))
        }
        var table = TextTable(header: ["data", "FP32 loss", "quantized loss", "FP32 acc", "quantized acc"])
        table.numericColumns = [1, 2, 3, 4]
        func acc(_ a: Double?) -> String { a.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
        func row(_ name: String, _ p: Pair) -> [String] {
            [name, String(format: "%.4f", p.fp32.loss), String(format: "%.4f", p.quantized.loss), acc(p.fp32.accuracy), acc(p.quantized.accuracy)]
        }
        table.rows.append(row("calibration", calibration))
        if let validation { table.rows.append(row("validation", validation)) }
        print(table.render())
        print(String(format: "%.1f s, %d cached loss evaluations; steps written to %@", seconds, evaluations, steps))
    }
}

/// The steps file `mpq quantize` writes: each quantized tensor's grid and parameters.
struct StepsFile: Codable {
    var model: String
    var bits: String
    var method: String
    var optimizer: String?
    var loss: String
    var perChannel: Bool
    var biasCorrection: Bool
    var midRise: Bool
    var quantizers: [QuantizerRecord]
    var search: StepSearch.Report
}
