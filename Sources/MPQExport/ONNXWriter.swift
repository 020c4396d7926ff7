import Foundation
import MPQExecutor
import MPQGraph
import ONNXProto
import SwiftProtobuf

/// Errors writing a graph (or a quantized graph) as ONNX.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    /// A mid-rise (LAPQ paper) grid has a half-integer zero point: no integer format holds it.
    case notDeployable(tensor: String, grid: String)
    /// The requested opset cannot express what the export needs.
    case opsetTooLow(requested: Int, needed: Int, reason: String)
    /// Raising the graph's opset would change the meaning of some operators the IR keeps as read.
    case opsetUpgrade(from: Int, to: Int, operators: [String])
    /// A quantizer names a tensor the graph does not have, or one of the wrong kind.
    case unknownTensor(String, reason: String)
    /// The quantizer does not fit its tensor (channel count, axis, bit-width).
    case invalidQuantizer(tensor: String, reason: String)
    /// An attribute or tensor kind that ONNX cannot carry as the IR holds it.
    case unsupported(String)

    public var description: String {
        switch self {
        case let .notDeployable(tensor, grid):
            return "tensor '\(tensor)' uses a \(grid) grid: mid-rise grids have a half-integer zero point (0 is not on the grid), "
                + "which QuantizeLinear/DequantizeLinear and integer kernels cannot represent; re-run the quantization "
                + "without --mid-rise (deployable grids) to export it"
        case let .opsetTooLow(requested, needed, reason):
            return "opset \(requested) is too low: \(reason) needs opset \(needed) or later"
        case let .opsetUpgrade(from, to, operators):
            return "writing the graph (opset \(from)) at opset \(to) would change the signature of \(operators.joined(separator: ", ")); "
                + "convert the source model with onnx.version_converter to opset \(to) first, or export at opset \(from)"
        case let .unknownTensor(name, reason):
            return "tensor '\(name)': \(reason)"
        case let .invalidQuantizer(tensor, reason):
            return "quantizer for '\(tensor)': \(reason)"
        case let .unsupported(what):
            return "cannot export: \(what)"
        }
    }
}

/// Writes a graph-IR `Graph` as an ONNX `ModelProto`.
///
/// - Activations, GELUs and Softmax inputs fused by `GraphOptimizer` are un-fused first (`GraphOptimizer.unfuse`),
///   so the model holds standard ONNX nodes only.
/// - Initializers are written as `raw_data` (little-endian): float32 as FLOAT, int64 as INT64,
///   bool as BOOL. (mpq converts float16/double initializers to float32 and narrow integers to
///   int64 on import, so those come back in the wider type.)
/// - Graph inputs and outputs get value_info with their element type and declared shape; the first
///   axis is written as the symbolic dimension `batchDimension` ("N") when one is given.
/// - Written at a later opset than the graph was read at, nodes whose signature changed in between
///   are rewritten in the later form (`upgrade(_:to:)`: moved `axes` attributes become inputs).
/// - `opset_import` is the default domain at the chosen opset, `ir_version` the IR version of the
///   ONNX release that introduced that opset (opset 21 → IR 10), producer "mpq".
public struct ONNXWriter {
    /// Default-domain opset to declare; nil keeps the graph's own opset.
    public var opset: Int?
    /// Name of the symbolic first axis of graph inputs and outputs; nil keeps the declared dims.
    public var batchDimension: String?
    public var producerVersion: String

    public init(opset: Int? = nil, batchDimension: String? = "N", producerVersion: String = "") {
        self.opset = opset
        self.batchDimension = batchDimension
        self.producerVersion = producerVersion
    }

    /// The IR version that goes with a default-domain opset (the IR of the ONNX release that
    /// introduced the opset).
    public static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ..<7: return 3
        case 7...8: return 3
        case 9: return 4
        case 10: return 5
        case 11: return 6
        case 12...14: return 7
        case 15...18: return 8
        case 19...20: return 9
        case 21...22: return 10
        default: return 11
        }
    }

    /// Operators whose inputs or attributes changed incompatibly in a default-domain opset after 11,
    /// with the versions where they changed. The IR keeps nodes exactly as read, so writing a graph at
    /// a later opset than it was read at rewrites these nodes (`upgrade(_:to:)`) or refuses.
    static let signatureChanges: [String: [Int]] = [
        "ReduceSum": [13], "Squeeze": [13], "Unsqueeze": [13], "Split": [13, 18],
        "ReduceMean": [18], "ReduceMax": [18], "ReduceMin": [18], "ReduceProd": [18], "ReduceL1": [18],
        "ReduceL2": [18], "ReduceLogSum": [18], "ReduceLogSumExp": [18], "ReduceSumSquare": [18],
        "GroupNormalization": [21], "Clip": [11], "Pad": [11], "Resize": [11], "Upsample": [10],
    ]

    /// The model for `graph` (fused nodes are un-fused).
    public func model(for graph: Graph) throws -> Onnx_ModelProto {
        let opset = self.opset ?? graph.opsetVersion
        if opset < graph.opsetVersion {
            throw ExportError.opsetTooLow(requested: opset, needed: graph.opsetVersion, reason: "the graph as read")
        }
        let plain = try Self.upgrade(GraphOptimizer.unfuse(graph), to: opset)
        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion(forOpset: opset)
        model.producerName = "mpq"
        if !producerVersion.isEmpty { model.producerVersion = producerVersion }
        var op = Onnx_OperatorSetIdProto()
        op.domain = ""
        op.version = Int64(opset)
        model.opsetImport = [op]
        // Other domains the nodes use (custom operators), at version 1.
        for domain in Set(plain.nodes.map(\.domain)).subtracting([""]).sorted() {
            var o = Onnx_OperatorSetIdProto()
            o.domain = domain
            o.version = 1
            model.opsetImport.append(o)
        }
        model.graph = try graphProto(plain)
        return model
    }

    /// Serialized model bytes.
    public func data(for graph: Graph) throws -> Data {
        try model(for: graph).serializedData()
    }

    /// Writes the model to `url`.
    public func write(_ graph: Graph, to url: URL) throws {
        try data(for: graph).write(to: url)
    }

    // MARK: - Pieces

    func graphProto(_ graph: Graph) throws -> Onnx_GraphProto {
        var g = Onnx_GraphProto()
        g.name = graph.name
        g.node = try graph.nodes.map(Self.nodeProto)
        g.initializer = try graph.initializers.keys.sorted().map { try Self.tensorProto(graph.initializers[$0]!, name: $0) }
        g.input = graph.inputs.map { valueInfoProto($0) }
        g.output = graph.outputs.map { valueInfoProto($0) }
        return g
    }

    static func nodeProto(_ node: Node) throws -> Onnx_NodeProto {
        var p = Onnx_NodeProto()
        p.name = node.name
        p.opType = node.opType
        if !node.domain.isEmpty { p.domain = node.domain }
        p.input = node.inputs
        p.output = node.outputs
        p.attribute = try node.attributes.keys.sorted().map { key in
            if key.hasPrefix("mpq_") {
                throw ExportError.unsupported("node '\(node.displayName)' carries the internal attribute '\(key)'")
            }
            return try attributeProto(node.attributes[key]!, name: key)
        }
        return p
    }

    static func attributeProto(_ value: Attribute, name: String) throws -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        switch value {
        case .int(let v): a.type = .int; a.i = Int64(v)
        case .float(let v): a.type = .float; a.f = v
        case .string(let v): a.type = .string; a.s = Data(v.utf8)
        case .ints(let v): a.type = .ints; a.ints = v.map(Int64.init)
        case .floats(let v): a.type = .floats; a.floats = v
        case .strings(let v): a.type = .strings; a.strings = v.map { Data($0.utf8) }
        case .tensor(let t): a.type = .tensor; a.t = try tensorProto(t, name: "")
        }
        return a
    }

    /// A float32 / int64 / bool tensor as raw little-endian data.
    public static func tensorProto(_ tensor: Tensor, name: String) throws -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        if !name.isEmpty { p.name = name }
        p.dims = tensor.shape.map(Int64.init)
        switch tensor.storage {
        case .float(let v):
            p.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            p.rawData = v.withUnsafeBufferPointer { Data(buffer: $0) }
        case .int64(let v):
            p.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            p.rawData = v.withUnsafeBufferPointer { Data(buffer: $0) }
        case .bool(let v):
            p.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
            p.rawData = Data(v.map { $0 ? 1 : 0 })
        }
        return p
    }

    func valueInfoProto(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var p = Onnx_ValueInfoProto()
        p.name = info.name
        var t = Onnx_TypeProto.Tensor()
        switch info.elementType {
        case .int64?: t.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        case .bool?: t.elemType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
        // mpq computes in float32 (float16/double inputs were converted on import).
        case .float32?, nil: t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        }
        if let dims = info.shape {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.enumerated().map { axis, d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if axis == 0, let batchDimension {
                    dim.dimParam = batchDimension
                    return dim
                }
                switch d {
                case .fixed(let n): dim.dimValue = Int64(n)
                case .symbolic(let s): dim.dimParam = s
                case .unknown: break
                }
                return dim
            }
            t.shape = shape
        }
        var type = Onnx_TypeProto()
        type.tensorType = t
        p.type = type
        return p
    }
}
