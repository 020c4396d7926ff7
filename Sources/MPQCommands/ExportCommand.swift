import ArgumentParser
import Foundation
import MPQExport
import MPQGraph
import MPQLAPQ
import MPQPlanning
import MPQQuantization

/// `mpq export plan.json --format qdq|encodings|plan`: deployment files for a plan.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a plan's deployment files: a QDQ ONNX model, AIMET/Qualcomm-style encodings, or the plan itself."
    )

    @Argument(help: "The plan.json written by `mpq plan`.")
    var plan: String

    @Option(help: "qdq (an ONNX model with QuantizeLinear/DequantizeLinear; opset 21 when int4/int16 is used) | encodings | plan")
    var format = ExportFormat.qdq

    @Option(name: .customLong("encodings-version"), help: "Encodings layout: 0.6.1 or 1.0.0.")
    var encodingsVersion = Encodings.Version.v1_0_0

    @Option(name: .customLong("weight-type"),
            help: "Container of 8-bit weights in the QDQ model: int8, or uint8 (the same values, zero point 128) for ONNX Runtime on x86 CPUs without VNNI, whose int8-weight kernels saturate.")
    var weightType = QDQExporter.EightBitWeights.int8

    @Option(help: "The ONNX model the plan was made for (default: the one named in the plan).")
    var model: String?

    @Option(name: .shortAndLong, help: "Output file (default: model.qdq.onnx, model.encodings, or plan-copy.json).")
    var output: String?

    func run() throws {
        let file = try PlanFile.load(plan)
        let modelPath = model ?? file.model
        let stem = URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
        let graph = try LoadedModel(path: modelPath).graph.withExplicitBiases()
        try file.validate(against: graph, modelPath: modelPath, path: plan)
        let quantizers = try file.tensors.map { try Self.quantizer(from: $0) }
        let biases = Dictionary(file.correctedBiases.map { ($0.key, Tensor(shape: [$0.value.count], floats: $0.value)) },
                                uniquingKeysWith: { a, _ in a })
        let destination: String
        var note: String?
        switch format {
        case .qdq:
            destination = output ?? "\(stem).qdq.onnx"
            let exporter = QDQExporter(eightBitWeights: weightType)
            try exporter.write(graph: graph, quantizers: quantizers, correctedBiases: biases, to: URL(fileURLWithPath: destination))
            if exporter.writesInt8Weights(quantizers) {
                note = "note: 8-bit weights are stored as int8; for ONNX Runtime on x86 CPUs without VNNI (AVX2, or AVX-512 without VNNI) export with --weight-type uint8, since its int8-weight kernels saturate there"
            }
        case .encodings:
            destination = output ?? "\(stem).encodings"
            try Encodings(quantizers: quantizers, graph: graph).write(encodingsVersion,
                                                                     to: URL(fileURLWithPath: destination))
        case .plan:
            destination = output ?? "plan-copy.json"
            try JSONOutput.write(file, to: destination)
        }
        print("wrote \(destination) (\(quantizers.count) quantized tensors)")
        if let note { print(note) }
    }

    /// A plan file's tensor record as a quantizer (its steps already include the refinement multiplier).
    static func quantizer(from r: QuantizerRecord) throws -> TensorQuantizer {
        guard let quantizer = TensorQuantizer(record: r) else {
            throw UsageProblem("plan tensor '\(r.name)' has an invalid role or step list")
        }
        return quantizer
    }
}
