import MPQExecutor
import MPQGraph
import MPQQuantization

/// Which biases are deployed as int32, and the quantizers whose scales set each one's grid.
///
/// A bias is deployed as int32 (`Int32BiasGrid`) when it is a 1-D float32 initializer added inside a Conv
/// or Gemm (input 2; Gemm with alpha = beta = 1) that it alone reads, and both the layer's weight and
/// its data input are quantized on deployable grids — the Q/DQ group an integer kernel (QLinearConv,
/// QGemm) takes. The data input may reach the layer through data-movement ops (Flatten, Reshape, …);
/// its quantizer is the one upstream of them, whose Q/DQ the runtime moves along.
///
/// Otherwise the bias stays float, in simulation and in export alike: a layer with a float input
/// runs as a float op. Transformer biases added by a separate `Add` after a MatMul also stay float:
/// ONNX Runtime runs a DQ → MatMul without an output Q as MatMulIntegerToFloat and adds the float
/// bias to its float result, so there is no int32 bias to match.
public struct BiasQuantization: Sendable {
    /// One layer whose bias can be deployed as int32.
    public struct Link: Sendable, Hashable {
        /// The layer's node name.
        public var layer: String
        public var bias: String
        public var weight: String
        /// The data input and, in order, the tensors it is a pure data movement of.
        public var inputChain: [String]
        /// The weight's output-channel axis (Conv 0, Gemm transB ? 0 : 1) and the bias's value count.
        public var outputAxis: Int
        public var biasCount: Int
        /// |bias| per output channel, in the graph the links were found in.
        public var biasMagnitudes: [Float] = []
    }

    /// Links by weight name (a weight read by several layers has several links).
    public let links: [Link]

    /// Float biases everywhere (for reproducing float-bias results).
    public static let none = BiasQuantization(links: [])

    init(links: [Link]) { self.links = links }

    /// The Conv/Gemm layers of `graph` whose bias can be deployed as int32.
    public init(graph: Graph) {
        let consumers = graph.consumers(), producers = graph.producers()
        var links: [Link] = []
        for node in graph.nodes where node.domain.isEmpty && (node.opType == "Conv" || node.opType == "Gemm") {
            guard node.inputs.count >= 3, !node.inputs[2].isEmpty,
                  graph.initializers[node.inputs[1]]?.floats != nil, graph.initializers[node.inputs[0]] == nil,
                  let bias = graph.initializers[node.inputs[2]], bias.floats != nil, bias.rank == 1,
                  consumers[node.inputs[2]]?.count == 1 else { continue }
            var outputAxis = 0
            if node.opType == "Gemm" {
                guard (try? node.float("alpha", default: 1)) == 1, (try? node.float("beta", default: 1)) == 1 else { continue }
                outputAxis = (try? node.int("transB", default: 0)) == 1 ? 0 : 1
            }
            var chain = [node.inputs[0]]
            while let p = producers[chain.last!], graph.nodes[p].domain.isEmpty,
                  QuantizationPolicy.dataMovement.contains(graph.nodes[p].opType),
                  let source = graph.nodes[p].inputs.first, !source.isEmpty {
                chain.append(source)
            }
            links.append(Link(layer: node.displayName, bias: node.inputs[2], weight: node.inputs[1], inputChain: chain,
                              outputAxis: outputAxis, biasCount: bias.count, biasMagnitudes: bias.floats!.map(abs)))
        }
        self.links = links
    }

    /// `parameters` with weight scales raised where a bias would not fit its int32 grid.
    ///
    /// A weight channel whose values are almost zero (common after batch-norm folding: a dead channel whose
    /// output is its bias) gets a tiny step, and the bias grid's step (input step × weight step) with it: the
    /// bias then overflows int32 and is clipped to about zero, losing the channel's constant output. As ONNX
    /// Runtime's quantization tool does, such a channel's weight step is raised until twice its bias fits (its
    /// weights, far below one new step, round to zero). Simulation and export both call this, so they agree.
    public func fittingInt32Biases(_ parameters: [String: QuantizerParameters]) -> [String: QuantizerParameters] {
        var result = parameters
        let largestCode = Double(Int32.max) - 127  // the int32 grid's largest float32 code, 2³¹ − 128
        for link in links {
            guard var w = result[link.weight], w.grid.style == .deployable,
                  let input = link.inputChain.lazy.compactMap({ parameters[$0] }).first,
                  input.grid.style == .deployable, !input.isPerChannel, let inputScale = input.scales.first, inputScale > 0,
                  link.biasMagnitudes.count == link.biasCount,
                  w.axis == nil || (w.axis == link.outputAxis && w.channelCount == link.biasCount) else { continue }
            var changed = false
            for c in link.biasMagnitudes.indices {
                let k = w.scales.count == 1 ? 0 : c
                let needed = Float(2 * Double(link.biasMagnitudes[c]) / (Double(inputScale) * largestCode))
                if w.scales[k] > 0, w.scales[k] < needed {
                    w.scales[k] = needed
                    w.inverseScales[k] = 1 / needed
                    changed = true
                }
            }
            if changed { result[link.weight] = w }
        }
        return result
    }

    /// The int32 grid of each bias (by name) whose weight and input have deployable quantizers in
    /// `parameters` (by tensor name); biases without one stay float.
    public func grids(_ parameters: [String: QuantizerParameters]) -> [String: Int32BiasGrid] {
        var result: [String: Int32BiasGrid] = [:]
        for link in links {
            guard let w = parameters[link.weight], w.grid.style == .deployable,
                  let input = link.inputChain.lazy.compactMap({ parameters[$0] }).first,
                  input.grid.style == .deployable, !input.isPerChannel,
                  // Per-channel weight scales must be the bias's channels.
                  w.axis == nil || (w.axis == link.outputAxis && w.channelCount == link.biasCount),
                  let grid = try? Int32BiasGrid(inputScale: input.scales[0], weightScales: w.scales) else { continue }
            result[link.bias] = grid
        }
        return result
    }
}

extension QuantizerSetting {
    /// The hook that puts a bias on its int32 grid, after `correction` (bias correction's setting, which
    /// returns the corrected bias) when there is one.
    public static func int32Bias(_ grid: Int32BiasGrid, after correction: QuantizerSetting? = nil) -> QuantizerSetting {
        QuantizerSetting(key: "int32 " + QuantizerSetting.keyPart(grid.scales) + "|" + (correction?.key ?? "float")) { tensor in
            let bias = correction?.transform(tensor) ?? tensor
            guard let values = bias.floats, let rounded = try? grid.fakeQuantize(values) else { return bias }
            return Tensor(shape: bias.shape, floats: rounded)
        }
    }
}
