import Foundation
import MPQExecutor
import MPQGraph
import MPQLAPQ
import MPQQuantization
import ONNXProto
import SwiftProtobuf

/// Exports a quantized graph as a QDQ ONNX model (QuantizeLinear / DequantizeLinear pairs), the
/// format ONNX Runtime and most NPU toolchains take for pre-quantized models.
///
/// Input: the optimized graph the quantizers were computed on (fused activations are un-fused
/// here), the quantizers (with the joint search's multipliers, if any) and, optionally, the
/// corrected biases by name (see `correctedBiases(_:quantizers:multipliers:)`).
///
/// Emitted:
/// - For each quantized **weight** W: its integer codes as an initializer `W_quantized` of the
///   container type (`QuantizedElementType`: int4/uint4 packed two per byte, int8/uint8, int16/uint16),
///   a float32 scale `W_scale` and a zero point `W_zero_point` of the container type (scalars for
///   per-tensor quantizers, 1-D with the `axis` attribute for per-channel ones), and
///   `DequantizeLinear → W`. The model therefore holds the quantized weights, not float ones; the
///   codes are exactly mpq's (`FakeQuantizer.codes`), so DQ reproduces mpq's fake-quantized weights.
/// - For each quantized **activation** X: `X → QuantizeLinear → X_quantized → DequantizeLinear →
///   X_dequantized`, and every reader of X reads `X_dequantized`. A quantized graph output keeps its
///   name: the producer writes `X_float`, the DequantizeLinear writes X. A quantized graph input
///   is quantized right after the input.
///
/// Grids narrower than their container (3-bit in int4, 5–7-bit in int8, 9–15-bit in int16):
/// weights are exact (the stored codes stay in the grid's range). QuantizeLinear, however,
/// saturates to the *container* range, so by default (`narrowActivations = .clip`) a Clip to the
/// grid's representable range [(qmin − zp)·s, (qmax − zp)·s] is inserted before the Q node, which
/// reproduces mpq's clamp. With `.containerRange` the Clip is left out and the model clips only to the
/// container range (a wider range than mpq simulated; the model then only approximates the plan).
/// Either way the hardware runs the container width: a 6-bit plan costs what 8 bits cost unless the
/// target toolchain reads the narrower width from the encodings file (`Encodings`).
///
/// - After each data-movement op (Reshape, Transpose, Squeeze, Unsqueeze, Flatten, Identity) that
///   reads a quantized activation, a QuantizeLinear/DequantizeLinear pair on the same grid (exact: the
///   values are already on it), as ONNX Runtime's quantization tool writes them.
/// - For each Conv/Gemm **bias** whose layer has a quantized weight and a quantized input
///   (`BiasQuantization`): int32 codes `B_quantized` on the grid scale = input scale × weight scale
///   (per output channel), a float32 `B_scale`, an int32 zero point 0 `B_zero_point`, and
///   `DequantizeLinear → B` (axis 0 when per-channel), as ONNX Runtime's quantization tool writes
///   biases. This is the Q/DQ group ORT fuses into QLinearConv/QGemm, and the bias mpq simulated
///   (`StepSearch.settings` rounds it to the same grid), so the int32 codes are the deployed ones.
///   Other biases stay float32. `int32Biases = false` keeps every bias float (for plans simulated
///   with `StepSearch.Options.int32Biases` off).
///
/// 8-bit weights are int8 by default (symmetric grids, zero point 0), as ONNX Runtime's own quantization tool writes
/// them. `eightBitWeights = .uint8` stores the same values as uint8 codes + 128 with zero point 128: ONNX Runtime's
/// int8 kernels on x86 CPUs without VNNI multiply uint8 activations by int8 weights with `vpmaddubsw`, whose int16
/// pair sums saturate (measured: the digits CNN's W8A8 model at 73 % argmax agreement with mpq on such a CPU, 100 %
/// as uint8 weights); uint8 × uint8 kernels do not saturate.
///
/// Mid-rise grids are refused (`ExportError.notDeployable`).
///
/// Opset: 21 whenever an int4/uint4/int16/uint16 container is used (QuantizeLinear/DequantizeLinear
/// take those types from opset 21), otherwise the graph's opset raised to at least 13 (per-channel
/// DequantizeLinear). An explicit `opset` below what is needed is an error.
public struct QDQExporter {
    /// What to do about activation grids narrower than their integer container.
    public enum NarrowActivations: String, Sendable {
        /// Insert a Clip to the grid's range before QuantizeLinear (exact).
        case clip
        /// Rely on QuantizeLinear's saturation to the container range (approximate).
        case containerRange
    }

    /// The container of 8-bit weight codes.
    public enum EightBitWeights: String, Sendable, CaseIterable {
        /// int8 codes with the grid's zero point (ONNX Runtime's default, exact on VNNI and ARM CPUs).
        case int8
        /// The same values as uint8 codes shifted by 128, zero point + 128 (for x86 CPUs without VNNI).
        case uint8
    }

    /// Default-domain opset to write; nil chooses automatically (see the type's documentation).
    public var opset: Int?
    public var narrowActivations: NarrowActivations
    /// Symbolic name of the batch axis of graph inputs and outputs.
    public var batchDimension: String?
    /// Write Conv/Gemm biases of quantized layers as int32 with DequantizeLinear (see the type's documentation).
    public var int32Biases: Bool
    /// The container of 8-bit weights (see the type's documentation).
    public var eightBitWeights: EightBitWeights

    public init(opset: Int? = nil, narrowActivations: NarrowActivations = .clip, batchDimension: String? = "N",
                int32Biases: Bool = true, eightBitWeights: EightBitWeights = .int8) {
        self.opset = opset
        self.narrowActivations = narrowActivations
        self.batchDimension = batchDimension
        self.int32Biases = int32Biases
        self.eightBitWeights = eightBitWeights
    }

    /// The container a weight on `grid` is stored in: the grid's own, except int8 as uint8 when `eightBitWeights` says so.
    func weightContainer(for grid: QuantizationGrid) -> QuantizedElementType {
        let type = QuantizedElementType(grid: grid)
        return type == .int8 && eightBitWeights == .uint8 ? .uint8 : type
    }

    /// Whether the export of these quantizers stores int8 weight codes (which ONNX Runtime's integer kernels
    /// saturate on x86 CPUs without VNNI; see the type's documentation).
    public func writesInt8Weights(_ quantizers: [TensorQuantizer]) -> Bool {
        quantizers.contains { $0.role == .weight && weightContainer(for: $0.grid) == .int8 }
    }

    /// The corrected bias tensors of a bias-correction plan for quantizers at multipliers, by bias name.
    public static func correctedBiases(_ plan: BiasCorrectionPlan, quantizers: [TensorQuantizer],
                                       multipliers: [Double]? = nil) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (i, q) in quantizers.enumerated() where q.role == .weight {
            // The setting ignores its input and returns the corrected bias.
            if let (bias, setting) = plan.setting(for: q, multiplier: multipliers?[i] ?? 1) {
                result[bias] = setting.transform(Tensor.scalar(0))
            }
        }
        return result
    }

    /// Checks that a quantizer can be exported; returns its parameters at `multiplier` and container type.
    public static func deployableParameters(_ q: TensorQuantizer, multiplier: Double = 1) throws
        -> (QuantizerParameters, QuantizedElementType) {
        guard q.grid.style == .deployable else { throw ExportError.notDeployable(tensor: q.name, grid: q.grid.description) }
        let p = q.parameters(multiplier: multiplier)
        guard p.zeroPoints.allSatisfy({ $0 == $0.rounded() }) else {
            throw ExportError.notDeployable(tensor: q.name, grid: q.grid.description)
        }
        let type = QuantizedElementType(grid: q.grid)
        guard type.range.contains(p.qmin), type.range.contains(p.qmax),
              p.integerZeroPoints.allSatisfy(type.range.contains) else {
            throw ExportError.invalidQuantizer(tensor: q.name, reason: "codes \(p.qmin)...\(p.qmax) or zero points do not fit \(type.rawValue)")
        }
        guard p.scales.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw ExportError.invalidQuantizer(tensor: q.name, reason: "scales must be finite and ≥ 0")
        }
        return (p, type)
    }

    /// The opset the export of these quantizers needs.
    public func chosenOpset(graph: Graph, quantizers: [TensorQuantizer]) throws -> Int {
        let types = try quantizers.map { try Self.deployableParameters($0).1 }
        let needed = max(13, types.map(\.minimumOpset).max() ?? 13)
        if let opset {
            if opset < needed {
                let wide = types.filter { $0.minimumOpset > 13 }.map(\.rawValue)
                let reason = wide.isEmpty ? "per-channel DequantizeLinear" : "QuantizeLinear/DequantizeLinear with \(Set(wide).sorted().joined(separator: ", "))"
                throw ExportError.opsetTooLow(requested: opset, needed: needed, reason: reason)
            }
            return opset
        }
        return max(needed, graph.opsetVersion)
    }

    /// The QDQ model.
    public func model(graph input: Graph, quantizers: [TensorQuantizer], multipliers: [Double]? = nil,
                      correctedBiases: [String: Tensor] = [:]) throws -> Onnx_ModelProto {
        if let multipliers, multipliers.count != quantizers.count {
            throw ExportError.invalidQuantizer(tensor: "*", reason: "\(multipliers.count) multipliers for \(quantizers.count) quantizers")
        }
        let opset = try chosenOpset(graph: input, quantizers: quantizers)
        var graph = input
        for (name, bias) in correctedBiases {
            guard let old = graph.initializers[name] else {
                throw ExportError.unknownTensor(name, reason: "a corrected bias is given, but the graph has no such initializer")
            }
            guard old.shape == bias.shape || old.count == bias.count, bias.floats != nil else {
                throw ExportError.unknownTensor(name, reason: "corrected bias has shape \(bias.shape), the initializer \(old.shape)")
            }
            graph.initializers[name] = bias.reshaped(old.shape)
        }
        // Bias grids from the quantizers at their multipliers, on the graph the quantizers were computed on.
        var parameters: [String: QuantizerParameters] = [:]
        for (i, q) in quantizers.enumerated() { parameters[q.name] = try Self.deployableParameters(q, multiplier: multipliers?[i] ?? 1).0 }
        // Weight steps raised where a bias would overflow int32, exactly as the simulation raised them (see
        // `fittingInt32Biases`; the magnitudes come from the graph the quantizers were computed on).
        let biasQuantization = int32Biases ? BiasQuantization(graph: input) : .none
        parameters = biasQuantization.fittingInt32Biases(parameters)
        let biasGrids = biasQuantization.grids(parameters)
        graph = GraphOptimizer.unfuse(graph)

        var used = Set(graph.nodes.flatMap(\.outputs)).union(graph.initializers.keys).union(graph.inputs.map(\.name))
        func fresh(_ base: String) -> String {
            var name = base, i = 1
            while used.contains(name) { name = "\(base)_\(i)"; i += 1 }
            used.insert(name)
            return name
        }
        var integerInitializers: [Onnx_TensorProto] = []
        var leadingNodes: [Node] = []
        var afterNode: [Int: [Node]] = [:]
        var renameInputs: [String: String] = [:]
        var renameProducerOutput: [String: String] = [:]
        let producers = graph.producers()
        let graphInputs = Set(graph.inputs.map(\.name))
        let graphOutputs = Set(graph.outputs.map(\.name))
        var seen = Set<String>()
        /// Each quantized activation's scale and zero-point initializers, for the Q/DQ after data movement.
        var activationGrids: [(name: String, scale: String, zero: String)] = []

        /// A scale (float32) and zero point (container type) pair of initializers.
        func scaleAndZeroPoint(_ base: String, _ p: QuantizerParameters, _ type: QuantizedElementType,
                               substituteZeroScale: Bool) -> (String, String) {
            let scaleName = fresh(base + "_scale"), zeroName = fresh(base + "_zero_point")
            let shape = p.isPerChannel ? [p.channelCount] : []
            // A zero scale (an all-zero channel) would divide by zero; its codes all equal the zero
            // point, so any positive scale dequantizes them to exactly 0.
            let scales = p.scales.map { substituteZeroScale && $0 == 0 ? 1 : $0 }
            graph.initializers[scaleName] = Tensor(shape: shape, floats: scales)
            integerInitializers.append(type.tensorProto(p.integerZeroPoints.map(Int32.init), shape: shape, name: zeroName))
            return (scaleName, zeroName)
        }

        for (i, q) in quantizers.enumerated() {
            guard seen.insert(q.name).inserted else {
                throw ExportError.invalidQuantizer(tensor: q.name, reason: "the tensor has more than one quantizer")
            }
            let (unfitted, type) = try Self.deployableParameters(q, multiplier: multipliers?[i] ?? 1)
            let p = parameters[q.name] ?? unfitted
            switch q.role {
            case .weight:
                guard let w = graph.initializers[q.name], let values = w.floats else {
                    throw ExportError.unknownTensor(q.name, reason: "a weight quantizer needs a float32 initializer")
                }
                if let axis = p.axis, axis >= w.rank || w.shape[axis] != p.channelCount {
                    throw ExportError.invalidQuantizer(tensor: q.name, reason: "\(p.channelCount) channels on axis \(axis) of shape \(w.shape)")
                }
                var codes: [Int32]
                do { codes = try FakeQuantizer(p).codes(values, shape: w.shape) } catch {
                    throw ExportError.invalidQuantizer(tensor: q.name, reason: "\(error)")
                }
                var stored = p
                let storedType = weightContainer(for: q.grid)
                if storedType != type {
                    // int8 as uint8, shifted after rounding: exactly the int8 codes + 128.
                    codes = codes.map { $0 + 128 }
                    stored.zeroPoints = p.zeroPoints.map { $0 + 128 }
                }
                graph.initializers[q.name] = nil
                used.insert(q.name)
                let codesName = fresh(q.name + "_quantized")
                integerInitializers.append(storedType.tensorProto(codes, shape: w.shape, name: codesName))
                let (scale, zero) = scaleAndZeroPoint(q.name, stored, storedType, substituteZeroScale: true)
                var dq = Node(name: fresh(q.name + "_DequantizeLinear"), opType: "DequantizeLinear",
                              inputs: [codesName, scale, zero], outputs: [q.name])
                if let axis = p.axis { dq.attributes["axis"] = .int(axis) }
                leadingNodes.append(dq)
            case .activation:
                guard graph.initializers[q.name] == nil else {
                    throw ExportError.unknownTensor(q.name, reason: "an activation quantizer names a constant initializer")
                }
                let producer = producers[q.name]
                guard producer != nil || graphInputs.contains(q.name) else {
                    throw ExportError.unknownTensor(q.name, reason: "no node or graph input produces it")
                }
                guard !p.isPerChannel else {
                    throw ExportError.invalidQuantizer(tensor: q.name, reason: "per-channel activation quantizers are not exported")
                }
                guard p.scales.allSatisfy({ $0 > 0 }) else {
                    throw ExportError.invalidQuantizer(tensor: q.name, reason: "zero step size (the tensor was constant 0 on the calibration data); QuantizeLinear cannot divide by it")
                }
                let (scale, zero) = scaleAndZeroPoint(q.name, p, type, substituteZeroScale: false)
                var source = q.name
                let isOutput = graphOutputs.contains(q.name) && producer != nil
                if isOutput {
                    source = fresh(q.name + "_float")
                    renameProducerOutput[q.name] = source
                }
                var nodes: [Node] = []
                if narrowActivations == .clip, p.qmin > type.range.lowerBound || p.qmax < type.range.upperBound {
                    let range = p.representableRange()
                    let lo = fresh(q.name + "_clip_min"), hi = fresh(q.name + "_clip_max")
                    graph.initializers[lo] = Tensor(shape: [], floats: [range.lowerBound])
                    graph.initializers[hi] = Tensor(shape: [], floats: [range.upperBound])
                    let clipped = fresh(q.name + "_clipped")
                    nodes.append(Node(name: fresh(q.name + "_Clip"), opType: "Clip", inputs: [source, lo, hi], outputs: [clipped]))
                    source = clipped
                }
                let quantized = fresh(q.name + "_quantized")
                let dequantized = isOutput ? q.name : fresh(q.name + "_dequantized")
                nodes.append(Node(name: fresh(q.name + "_QuantizeLinear"), opType: "QuantizeLinear",
                                  inputs: [source, scale, zero], outputs: [quantized]))
                nodes.append(Node(name: fresh(q.name + "_DequantizeLinear"), opType: "DequantizeLinear",
                                  inputs: [quantized, scale, zero], outputs: [dequantized]))
                if !isOutput { renameInputs[q.name] = dequantized }
                activationGrids.append((q.name, scale, zero))
                if let producer { afterNode[producer, default: []].append(contentsOf: nodes) } else { leadingNodes.append(contentsOf: nodes) }
            }
        }

        // Data movement after a quantized activation (Reshape, Transpose, Flatten, ...) gets its own
        // Q/DQ on the same grid, as ONNX Runtime's quantization tool writes it. The values are unchanged
        // (Q of a DQ'd value gives back its code), but ORT then need not propagate the Q/DQ itself, which
        // at opset 21 yields an invalid QuantizeLinear for int8 (ORT 1.32: "output_dtype INT8 does not
        // match y_zero_point type UINT8").
        let consumers = graph.consumers()
        var pending = activationGrids
        while let (name, scale, zero) = pending.popLast() {
            for c in consumers[name] ?? [] {
                let node = graph.nodes[c]
                guard node.domain.isEmpty, QuantizationPolicy.dataMovement.contains(node.opType), node.inputs.first == name,
                      let out = node.outputs.first, !out.isEmpty, !graphOutputs.contains(out), !seen.contains(out),
                      renameInputs[out] == nil else { continue }
                let quantized = fresh(out + "_quantized"), dequantized = fresh(out + "_dequantized")
                afterNode[c, default: []].append(contentsOf: [
                    Node(name: fresh(out + "_QuantizeLinear"), opType: "QuantizeLinear", inputs: [out, scale, zero], outputs: [quantized]),
                    Node(name: fresh(out + "_DequantizeLinear"), opType: "DequantizeLinear", inputs: [quantized, scale, zero], outputs: [dequantized]),
                ])
                renameInputs[out] = dequantized
                pending.append((out, scale, zero))
            }
        }

        for (bias, grid) in biasGrids.sorted(by: { $0.key < $1.key }) {
            guard let b = graph.initializers[bias], let values = b.floats else {
                throw ExportError.unknownTensor(bias, reason: "an int32 bias needs a float32 initializer")
            }
            let codes: [Int32]
            do { codes = try grid.codes(values) } catch {
                throw ExportError.invalidQuantizer(tensor: bias, reason: "\(error)")
            }
            graph.initializers[bias] = nil
            let codesName = fresh(bias + "_quantized"), scaleName = fresh(bias + "_scale"), zeroName = fresh(bias + "_zero_point")
            let channels = grid.isPerChannel ? [grid.scales.count] : []
            integerInitializers.append(Self.int32TensorProto(codes, shape: b.shape, name: codesName))
            graph.initializers[scaleName] = Tensor(shape: channels, floats: grid.scales)
            integerInitializers.append(Self.int32TensorProto([Int32](repeating: 0, count: grid.scales.count), shape: channels, name: zeroName))
            var dq = Node(name: fresh(bias + "_DequantizeLinear"), opType: "DequantizeLinear",
                          inputs: [codesName, scaleName, zeroName], outputs: [bias])
            if grid.isPerChannel { dq.attributes["axis"] = .int(0) }
            leadingNodes.append(dq)
        }

        var nodes = leadingNodes
        for (i, var node) in graph.nodes.enumerated() {
            node.inputs = node.inputs.map { renameInputs[$0] ?? $0 }
            node.outputs = node.outputs.map { renameProducerOutput[$0] ?? $0 }
            nodes.append(node)
            nodes.append(contentsOf: afterNode[i] ?? [])
        }
        graph.nodes = nodes
        graph.opsetVersion = input.opsetVersion

        var model = try ONNXWriter(opset: opset, batchDimension: batchDimension).model(for: graph)
        model.graph.initializer.append(contentsOf: integerInitializers)
        var entry = Onnx_StringStringEntryProto()
        entry.key = "mpq.export"
        entry.value = "qdq; \(quantizers.filter { $0.role == .weight }.count) weights, \(quantizers.filter { $0.role == .activation }.count) activations, \(biasGrids.count) int32 biases"
        model.metadataProps.append(entry)
        return model
    }

    /// An int32 ONNX tensor (raw_data, little-endian).
    static func int32TensorProto(_ values: [Int32], shape: [Int], name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = shape.map(Int64.init)
        p.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        p.rawData = data
        return p
    }

    /// Writes the QDQ model to `url`.
    public func write(graph: Graph, quantizers: [TensorQuantizer], multipliers: [Double]? = nil,
                      correctedBiases: [String: Tensor] = [:], to url: URL) throws {
        try model(graph: graph, quantizers: quantizers, multipliers: multipliers, correctedBiases: correctedBiases)
            .serializedData().write(to: url, options: .atomic)
    }
}
