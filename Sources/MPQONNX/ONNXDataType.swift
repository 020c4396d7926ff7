import MPQGraph
import ONNXProto

/// ONNX's TensorProto.DataType codes and how mpq stores each.
enum ONNXDataType {
    /// The storage element type for an ONNX data type code, or nil when mpq cannot hold it.
    static func elementType(_ code: Int32) -> ElementType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float?, .double?, .float16?, .bfloat16?: return .float32
        case .int64?, .int32?, .int16?, .int8?, .uint8?, .uint16?, .uint32?: return .int64
        case .bool?: return .bool
        default: return nil
        }
    }

    /// The ONNX name of a data type code, for messages.
    static func name(_ code: Int32) -> String {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float?: return "float32"
        case .double?: return "float64"
        case .float16?: return "float16"
        case .bfloat16?: return "bfloat16"
        case .int64?: return "int64"
        case .int32?: return "int32"
        case .int16?: return "int16"
        case .int8?: return "int8"
        case .uint8?: return "uint8"
        case .uint16?: return "uint16"
        case .uint32?: return "uint32"
        case .uint64?: return "uint64"
        case .bool?: return "bool"
        case .string?: return "string"
        case .uint4?: return "uint4"
        case .int4?: return "int4"
        case let other?: return "\(other)"
        case nil: return "code \(code)"
        }
    }

    /// Bytes per element in raw_data.
    static func byteWidth(_ code: Int32) -> Int? {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float?, .int32?, .uint32?: return 4
        case .double?, .int64?: return 8
        case .float16?, .bfloat16?, .int16?, .uint16?: return 2
        case .int8?, .uint8?, .bool?: return 1
        default: return nil
        }
    }
}
