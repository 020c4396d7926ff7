import Foundation
import MPQData
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQONNX
import Testing

/// A batch run as sub-batches gives ONNX Runtime's outputs within 1e-4, the whole plan's within float rounding, and
/// the same bits on one thread and two.
@Test func subBatchesMatchTheWholeBatchAndONNXRuntime() throws {
    let dir = TestPaths.example("mobilenet-digits")
    let (graph, _) = try ONNXModel.load(contentsOf: dir.appendingPathComponent("model.onnx")).optimizedGraph()
    let input = try NumpyArray(contentsOf: dir.appendingPathComponent("val.npy")).tensor.slice(axis0: 0..<37)
    let reference = try NumpyArray(contentsOf: dir.appendingPathComponent("val_reference.npy")).tensor.slice(axis0: 0..<37)
    let name = graph.inputs[0].name, output = graph.outputs[0].name
    let split = try SubBatchPlan(graph: graph, inputShapes: [name: input.shape], maxSamples: 8)
    #expect(split.subBatchCount == 5, "37 samples, at most 8 a sub-batch")
    let saved = KernelThreads.count
    defer { KernelThreads.count = saved }
    var runs: [Tensor] = []
    for threads in [1, 2] {
        KernelThreads.count = threads
        runs.append(try #require(try split.run([name: input])[output]))
    }
    #expect(runs[0].shape == reference.shape)
    #expect(runs[0].asFloats == runs[1].asFloats, "one thread and two give the same bits")
    #expect(relativeMaxError(runs[0], reference) <= 1e-4)
    let whole = try #require(try split.whole.run([name: input]).outputs[output])
    #expect(relativeMaxError(runs[0], whole) <= 1e-5)
    // Left to itself the plan cuts the batch in two.
    #expect(try SubBatchPlan(graph: graph, inputShapes: [name: input.shape]).subBatchCount == 2)
}

/// A batch that cannot be cut runs whole: a model that fixes its batch axis, one whose output does not follow the
/// batch (Flatten at axis 0 joins the samples), and a batch of one.
@Test func subBatchPlanRunsWholeWhereTheBatchCannotBeCut() throws {
    let fixed = try ONNXModel.load(contentsOf: TestPaths.fixtures.appendingPathComponent("fixed_batch/digits_batch4.onnx")).optimizedGraph().0
    #expect(try SubBatchPlan(graph: fixed, inputShapes: [fixed.inputs[0].name: [4, 1, 8, 8]], maxSamples: 1).subBatchCount == 1)

    var flatten = try ONNXModel.load(contentsOf: TestPaths.fixtures.appendingPathComponent("flatten_axis0/model.onnx")).optimizedGraph().0
    flatten.inputs[0].shape = [.symbolic("N"), .fixed(3), .fixed(4), .fixed(5)]
    let x = Tensor(shape: [2, 3, 4, 5], floats: (0..<120).map(Float.init))
    let joined = try SubBatchPlan(graph: flatten, inputShapes: [flatten.inputs[0].name: x.shape], maxSamples: 1)
    #expect(joined.subBatchCount == 1)
    #expect(try joined.run([flatten.inputs[0].name: x])[flatten.outputs[0].name]?.shape == [1, 120])

    let (graph, _) = try ONNXModel.load(contentsOf: TestPaths.example("digits").appendingPathComponent("model.onnx")).optimizedGraph()
    #expect(try SubBatchPlan(graph: graph, inputShapes: [graph.inputs[0].name: [1, 1, 8, 8]]).subBatchCount == 1)
}

/// A forward pass cuts a batch of large samples (a 3×3 convolution to `channels` × `size`² per sample: 2.36 MB at 64 ×
/// 96², 1.18 MB at 32 × 96²) into sub-batches of two, small ones (48 KB at 48 × 16²) into sub-batches whose largest activation
/// fits `cachedSubBatchBytes` (eight of 32), and others (8 KB) into halves; every cut gives the whole batch's outputs
/// within float rounding and the same bits on one thread and two. Calibration sessions keep the halves.
@Test(arguments: [(64, 96, 8, 4), (64, 96, 16, 8), (32, 96, 8, 2), (48, 16, 256, 8), (8, 16, 256, 2)])
func forwardSubBatchesFollowTheSampleSize(channels: Int, size: Int, batch: Int, subBatches: Int) throws {
    var state: UInt64 = 11
    func floats(_ n: Int) -> [Float] {
        (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
    }
    let graph = Graph(nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: ["pads": .ints([1, 1, 1, 1])]),
                              Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
                              Node(name: "pool", opType: "GlobalAveragePool", inputs: ["r"], outputs: ["y"])],
                      initializers: ["w": Tensor(shape: [channels, 3, 3, 3], floats: floats(channels * 27))],
                      inputs: [ValueInfo(name: "x", elementType: .float32, declaredTypeName: "float",
                                         shape: [.symbolic("N"), .fixed(3), .fixed(size), .fixed(size)])],
                      outputs: [ValueInfo(name: "y", elementType: .float32, declaredTypeName: "float", shape: nil)], opsetVersion: 13)
    let x = Tensor(shape: [batch, 3, size, size], floats: floats(batch * 3 * size * size))
    let split = try SubBatchPlan(graph: graph, inputShapes: ["x": x.shape])
    #expect(split.subBatchCount == subBatches)
    #expect(SubBatchPlan.defaultSamples(split.whole, batch: batch) == batch / 2, "calibration batches stay halves")
    let saved = KernelThreads.count
    defer { KernelThreads.count = saved }
    var runs: [Tensor] = []
    for threads in [1, 2] {
        KernelThreads.count = threads
        runs.append(try #require(try split.run(["x": x])["y"]))
    }
    #expect(runs[0].asFloats == runs[1].asFloats)
    let whole = try #require(try split.whole.run(["x": x]).outputs["y"])
    #expect(relativeMaxError(runs[0], whole) <= 1e-5)
}
