import Foundation
import MPQData
import MPQGraph

/// Model inputs read from `.npy`/`.npz` files and checked against the model's declared inputs.
public struct Dataset: Sendable {
    /// One tensor per graph input, batch along axis 0.
    public var inputs: [String: Tensor]
    public var sampleCount: Int
    /// The samples the files hold (more than `sampleCount` when `maxSamples` cut them).
    public var fileSampleCount: Int

    /// Reads `--data` arguments: `PATH.npy` (single-input models), `PATH.npz` (members named after
    /// inputs), or `NAME=PATH.npy` per input. With `maxSamples`, only the first samples are read (`.npy` files
    /// are memory-mapped and decoded only that far; `.npz` members are decompressed only that far), so memory stays
    /// bounded by what a command uses.
    public init(arguments: [String], graph: Graph, maxSamples: Int? = nil) throws {
        var arrays: [String: NumpyArray] = [:]
        let inputNames = graph.inputs.map(\.name)
        for argument in arguments {
            var name: String? = nil
            var path = argument
            if let eq = argument.firstIndex(of: "="), !FileManager.default.fileExists(atPath: argument) {
                let given = String(argument[..<eq])
                guard inputNames.contains(given) else {
                    throw InputProblem("--data \(argument) names input '\(given)', but the model's inputs are: \(inputNames.joined(separator: ", "))")
                }
                name = given
                path = String(argument[argument.index(after: eq)...])
            }
            let url = URL(fileURLWithPath: path)
            if path.hasSuffix(".npz") {
                let archive = try NumpyArchive(contentsOf: url)
                if let name {
                    guard archive.names.count == 1 else {
                        throw InputProblem("\(path) holds \(archive.names.count) arrays; give a single-array file for input '\(name)'")
                    }
                    arrays[name] = try archive.array(named: archive.names[0], maxSamples: maxSamples)
                } else if inputNames.count == 1 && archive.names.count == 1 {
                    arrays[inputNames[0]] = try archive.array(named: archive.names[0], maxSamples: maxSamples)
                } else {
                    for input in inputNames where arrays[input] == nil {
                        arrays[input] = try archive.array(named: input, maxSamples: maxSamples)
                    }
                }
            } else {
                let target = name ?? (inputNames.count == 1 ? inputNames[0] : nil)
                guard let target else {
                    throw InputProblem("the model has inputs \(inputNames.joined(separator: ", ")); give each as --data NAME=PATH.npy, or one .npz with members of those names")
                }
                arrays[target] = try NumpyArray(contentsOf: url, maxSamples: maxSamples)
            }
        }
        var inputs: [String: Tensor] = [:]
        var count: Int? = nil
        var fileCount: Int? = nil
        for input in graph.inputs {
            guard let array = arrays[input.name] else {
                throw InputProblem("no data for model input '\(input.name)'; the model's inputs are: \(inputNames.joined(separator: ", "))")
            }
            var tensor = try array.validated(against: input, anyBatch: graph.fixedBatchSize != nil)
            let inFile = array.fileSampleCount ?? tensor.shape.first ?? 0
            if let maxSamples, let n = tensor.shape.first, n > maxSamples { tensor = tensor.slice(axis0: 0..<maxSamples) }
            if tensor.elementType != (input.elementType ?? .float32), input.elementType == .float32 {
                tensor = Tensor(shape: tensor.shape, floats: tensor.asFloats)
            }
            guard let n = tensor.shape.first, n > 0 else {
                throw InputProblem("\(array.source) has no samples (shape \(tensor.shape)); the first axis is the sample axis")
            }
            if let count, count != n || fileCount != inFile {
                throw InputProblem("\(array.source) has \(inFile) samples but other inputs have \(fileCount ?? count)")
            }
            count = n
            fileCount = inFile
            inputs[input.name] = tensor
        }
        try Self.checkSharedDimensions(inputs, graph: graph, sources: arrays.mapValues(\.source))
        self.inputs = inputs
        self.sampleCount = count ?? 0
        self.fileSampleCount = fileCount ?? 0
    }

    /// Inputs that declare the same named dimension (a transformer's `seq` on its token ids and attention mask) must
    /// give it the same size: otherwise the model fails deep inside, at the first node that combines them.
    static func checkSharedDimensions(_ inputs: [String: Tensor], graph: Graph, sources: [String: String]) throws {
        var seen: [String: (input: String, size: Int)] = [:]
        for input in graph.inputs {
            guard let dims = input.shape, let shape = inputs[input.name]?.shape, dims.count == shape.count else { continue }
            for (axis, dim) in dims.enumerated().dropFirst() {
                guard case .symbolic(let name) = dim else { continue }
                if let first = seen[name], first.size != shape[axis] {
                    throw InputProblem("\(sources[input.name] ?? input.name): input '\(input.name)' has \(name) = \(shape[axis]) (axis \(axis)) "
                        + "but input '\(first.input)' has \(name) = \(first.size); inputs that share the dimension '\(name)' must agree")
                }
                seen[name] = seen[name] ?? (input.name, shape[axis])
            }
        }
    }

    /// Each input's shape without the batch axis.
    public var sampleShapes: [String: [Int]] { inputs.mapValues { Array($0.shape.dropFirst()) } }
}
