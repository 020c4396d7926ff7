import Foundation
import MPQGraph
import ONNXProto
import SwiftProtobuf

/// An ONNX model read into the graph IR, with the file-level facts mpq reports.
public struct ONNXModel: Sendable {
    /// Opset range the executor's operators are written for.
    public static let supportedOpsets = 11...21

    public var graph: Graph
    public var path: String
    public var irVersion: Int
    /// Operator-set versions by domain ("" is the default ONNX domain).
    public var opsets: [String: Int]
    public var producer: String

    /// Reads and converts an ONNX model file, resolving external data relative to its folder.
    public static func load(contentsOf url: URL) throws -> ONNXModel {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ONNXError.fileNotFound(path: path)
        }
        var proto = try decodedProto(url)
        // Arbitrary bytes can decode as a protobuf message; a real model names an IR version and has a graph.
        guard proto.irVersion > 0 else {
            throw ONNXError.notAModel(path: path, reason: "no ir_version field")
        }
        guard proto.hasGraph else { throw ONNXError.missingGraph(path: path) }
        var opsets: [String: Int] = [:]
        for o in proto.opsetImport {
            let domain = o.domain == "ai.onnx" ? "" : o.domain
            opsets[domain] = Int(o.version)
        }
        // IR versions before 3 had no opset_import and meant opset 1.
        let opset = opsets[""] ?? 1
        guard supportedOpsets.contains(opset) else {
            throw ONNXError.unsupportedOpset(path: path, version: opset, range: supportedOpsets)
        }
        let decoder = TensorDecoder(baseDirectory: url.deletingLastPathComponent())
        // The graph is taken out of the model so that the importer holds its only copy and can drop each
        // initializer's bytes once decoded (the peak is then about one copy of the weights, not two).
        var graphProto = proto.graph
        proto.clearGraph()
        let graph = try GraphImporter(decoder: decoder, opset: opset).graph(consuming: &graphProto)
        return ONNXModel(graph: graph, path: path, irVersion: Int(proto.irVersion), opsets: opsets,
                         producer: [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))
    }

    /// The file's protobuf message. The file is mapped only while it is decoded (the message holds copies of its bytes).
    private static func decodedProto(_ url: URL) throws -> Onnx_ModelProto {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw ONNXError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard !data.isEmpty else { throw ONNXError.notAModel(path: path, reason: "the file is empty") }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 1000
        do { return try Onnx_ModelProto(serializedBytes: data, options: options) } catch {
            throw ONNXError.notAModel(path: path, reason: "protobuf decoding failed: \(error)")
        }
    }
}
