/// Errors reading an ONNX model file.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case notAModel(path: String, reason: String)
    case missingGraph(path: String)
    case unsupportedOpset(path: String, version: Int, range: ClosedRange<Int>)
    case unsupportedDataType(tensor: String, dataType: String)
    case malformedTensor(tensor: String, reason: String)
    case externalData(tensor: String, file: String, reason: String)
    case malformedAttribute(node: String, attribute: String, reason: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): no such file; check the model path"
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason))"
        case let .notAModel(path, reason):
            return "\(path): not a valid ONNX model (\(reason)); is the file truncated, or not an .onnx file?"
        case let .missingGraph(path):
            return "\(path): the ONNX model has no graph"
        case let .unsupportedOpset(path, version, range):
            return "\(path): default-domain opset \(version) is not supported (supported: \(range.lowerBound) to \(range.upperBound)); convert the model with onnx.version_converter"
        case let .unsupportedDataType(tensor, dataType):
            return "tensor '\(tensor)': data type \(dataType) is not supported (supported: float, double, float16, int64, int32, int16, int8, uint8, uint16, bool)"
        case let .malformedTensor(tensor, reason):
            return "tensor '\(tensor)': \(reason)"
        case let .externalData(tensor, file, reason):
            return "tensor '\(tensor)': external data file '\(file)': \(reason)"
        case let .malformedAttribute(node, attribute, reason):
            return "node '\(node)': attribute '\(attribute)': \(reason)"
        }
    }
}
