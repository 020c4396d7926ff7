import ArgumentParser

/// What `mpq export` writes.
enum ExportFormat: String, CaseIterable, ExpressibleByArgument {
    /// An ONNX model with QuantizeLinear/DequantizeLinear.
    case qdq
    /// AIMET/Qualcomm-style encodings.
    case encodings
    /// A copy of the plan file.
    case plan
}
