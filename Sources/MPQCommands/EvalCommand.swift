import ArgumentParser
import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQPlanning

/// `mpq eval MODEL --data X.npy`: FP32 outputs, accuracy and cross-entropy, throughput.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run a model in FP32 on data: accuracy and cross-entropy (with labels), throughput, saved outputs."
    )

    @Argument(help: "The ONNX model.")
    var model: String

    @Option(name: .long, help: "Input data: X.npy for a single-input model, X.npz with one array per input name, or NAME=X.npy (repeatable).")
    var data: [String]

    @Option(name: .long, help: "Integer class labels (.npy), one per sample.")
    var labels: String?

    @Option(name: .customLong("batch-size"), help: "Samples per forward pass (default 64; a model that fixes its batch size runs batches of that size).")
    var batchSize: Int?

    @Option(name: .customLong("save-outputs"), help: "Write the model's first output (all samples) to this .npy file.")
    var saveOutputs: String?

    @Option(name: .long, help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    struct Report: Codable {
        var model: String
        var samples: Int
        var output: String
        var outputShape: [Int]
        var accuracy: Double?
        var crossEntropy: Double?
        var samplesPerSecond: Double
        var seconds: Double
        var threads: Int
        var savedOutputs: String?
    }

    func validate() throws {
        try SettingCheck.batchSize(batchSize, source: "--batch-size")
        _ = try SettingCheck.threads(threads)
        guard !data.isEmpty else { throw ValidationError("give the input data with --data X.npy") }
    }

    func run() throws {
        if let threads = try SettingCheck.threads(threads) { KernelThreads.count = threads }
        let loaded = try LoadedModel(path: model)
        let dataset = try Dataset(arguments: data, graph: loaded.graph)
        FixedBatchNotice.say(graph: loaded.graph, requested: batchSize)
        let runner = try BatchRunner(graph: loaded.graph, sampleShapes: dataset.sampleShapes,
                                     sampleCount: dataset.sampleCount, batchSize: batchSize ?? 64)
        guard let outputName = loaded.graph.outputs.first?.name else {
            throw UsageProblem("\(model) declares no outputs")
        }
        var progress = Progress(label: "eval", total: dataset.sampleCount, quiet: dataset.sampleCount <= runner.batchSize)
        let start = Date()
        let outputs = try runner.run(dataset.inputs) { done, _ in progress.update(done) }
        let seconds = Date().timeIntervalSince(start)
        guard let output = outputs[outputName] else { throw UsageProblem("the model produced no '\(outputName)'") }

        var metrics: ClassificationMetrics? = nil
        if let labels {
            guard output.rank == 2, let scores = output.floats else {
                throw UsageProblem("--labels needs a [samples, classes] float output, but '\(outputName)' has shape \(output.shape)")
            }
            let classes = output.shape[1]
            let y = try NumpyArray(contentsOf: URL(fileURLWithPath: labels))
                .validatedLabels(sampleCount: dataset.sampleCount, numClasses: classes)
            metrics = ClassificationMetrics(scores: scores, classes: classes, labels: y)
        }
        if let saveOutputs {
            try NPYWriter.write(output, to: URL(fileURLWithPath: saveOutputs))
        }
        let report = Report(model: model, samples: dataset.sampleCount, output: outputName, outputShape: output.shape,
                            accuracy: metrics?.accuracy, crossEntropy: metrics?.crossEntropy,
                            samplesPerSecond: Double(dataset.sampleCount) / seconds, seconds: seconds,
                            threads: KernelThreads.count, savedOutputs: saveOutputs)
        if json {
            print(try JSONOutput.encode(report))
            return
        }
        print("model:       \(model)")
        print("samples:     \(report.samples)  (output '\(outputName)' \(output.shape))")
        if let m = metrics {
            print(String(format: "accuracy:    %.2f%%", 100 * m.accuracy))
            print(String(format: "cross-entropy: %.4f", m.crossEntropy))
        }
        print(String(format: "throughput:  %.1f samples/s (%.3f s, %d threads, batch %d)",
                     report.samplesPerSecond, seconds, report.threads, runner.batchSize))
        if let saveOutputs { print("outputs:     \(saveOutputs)") }
    }
}
