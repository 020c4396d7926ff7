import Foundation
import MPQGraph
import ONNXProto

/// Converts ONNX TensorProtos (raw_data, typed fields or external data) to graph-IR tensors.
struct TensorDecoder {
    /// Folder that external-data locations are relative to (the model's folder).
    var baseDirectory: URL

    func decode(_ proto: Onnx_TensorProto, name fallbackName: String? = nil) throws -> Tensor {
        let name = proto.hasName ? proto.name : (fallbackName ?? "?")
        let shape = try proto.dims.map { d -> Int in
            guard d >= 0 else { throw ONNXError.malformedTensor(tensor: name, reason: "negative dimension \(d)") }
            return Int(d)
        }
        guard let count = Tensor.checkedCount(of: shape) else {
            throw ONNXError.malformedTensor(tensor: name, reason: "dims \(shape) describe more than \(Tensor.maximumElementCount) elements")
        }
        let code = proto.dataType
        guard let elementType = ONNXDataType.elementType(code) else {
            throw ONNXError.unsupportedDataType(tensor: name, dataType: ONNXDataType.name(code))
        }
        if proto.dataLocation == .external {
            let bytes = try externalBytes(proto, name: name)
            return try fromRaw(bytes, code: code, shape: shape, count: count, name: name)
        }
        if proto.hasRawData {
            return try fromRaw(proto.rawData, code: code, shape: shape, count: count, name: name)
        }
        return try fromTypedFields(proto, code: code, elementType: elementType, shape: shape, count: count, name: name)
    }

    private func fromTypedFields(_ p: Onnx_TensorProto, code: Int32, elementType: ElementType, shape: [Int],
                                 count: Int, name: String) throws -> Tensor {
        let type = Onnx_TensorProto.DataType(rawValue: Int(code))
        func check(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw ONNXError.malformedTensor(tensor: name, reason: "\(field) holds \(n) values but dims \(shape) need \(count)")
            }
        }
        switch type {
        case .float?:
            try check(p.floatData.count, "float_data")
            return Tensor(shape: shape, floats: p.floatData)
        case .double?:
            try check(p.doubleData.count, "double_data")
            return Tensor(shape: shape, floats: p.doubleData.map { Float($0) })
        case .float16?, .bfloat16?:
            try check(p.int32Data.count, "int32_data")
            let isBF = type == .bfloat16
            return Tensor(shape: shape, floats: p.int32Data.map { halfBits(UInt16(truncatingIfNeeded: $0), bfloat: isBF) })
        case .int64?:
            try check(p.int64Data.count, "int64_data")
            return Tensor(shape: shape, int64s: p.int64Data)
        case .int32?, .int16?, .int8?, .uint8?, .uint16?:
            try check(p.int32Data.count, "int32_data")
            return Tensor(shape: shape, int64s: p.int32Data.map { Int64($0) })
        case .uint32?:
            try check(p.uint64Data.count, "uint64_data")
            return Tensor(shape: shape, int64s: p.uint64Data.map { Int64($0) })
        case .bool?:
            try check(p.int32Data.count, "int32_data")
            return Tensor(shape: shape, bools: p.int32Data.map { $0 != 0 })
        default:
            throw ONNXError.unsupportedDataType(tensor: name, dataType: ONNXDataType.name(code))
        }
    }

    private func fromRaw(_ data: Data, code: Int32, shape: [Int], count: Int, name: String) throws -> Tensor {
        guard let width = ONNXDataType.byteWidth(code) else {
            throw ONNXError.unsupportedDataType(tensor: name, dataType: ONNXDataType.name(code))
        }
        guard data.count == count * width else {
            throw ONNXError.malformedTensor(tensor: name, reason: "raw data has \(data.count) bytes but dims \(shape) of \(ONNXDataType.name(code)) need \(count * width)")
        }
        // ONNX raw data is little-endian, as is every platform mpq runs on.
        return data.withUnsafeBytes { raw -> Tensor in
            func load<T>(_: T.Type) -> [T] {
                (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * width, as: T.self) }
            }
            switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
            case .float?:
                var out = [Float](repeating: 0, count: count)
                out.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<count * 4])) }
                return Tensor(shape: shape, floats: out)
            case .double?: return Tensor(shape: shape, floats: load(Double.self).map { Float($0) })
            case .float16?: return Tensor(shape: shape, floats: load(UInt16.self).map { halfBits($0, bfloat: false) })
            case .bfloat16?: return Tensor(shape: shape, floats: load(UInt16.self).map { halfBits($0, bfloat: true) })
            case .int64?: return Tensor(shape: shape, int64s: load(Int64.self))
            case .int32?: return Tensor(shape: shape, int64s: load(Int32.self).map { Int64($0) })
            case .uint32?: return Tensor(shape: shape, int64s: load(UInt32.self).map { Int64($0) })
            case .int16?: return Tensor(shape: shape, int64s: load(Int16.self).map { Int64($0) })
            case .uint16?: return Tensor(shape: shape, int64s: load(UInt16.self).map { Int64($0) })
            case .int8?: return Tensor(shape: shape, int64s: load(Int8.self).map { Int64($0) })
            case .uint8?: return Tensor(shape: shape, int64s: load(UInt8.self).map { Int64($0) })
            default: return Tensor(shape: shape, bools: load(UInt8.self).map { $0 != 0 })
            }
        }
    }

    /// The external-data file `location` names, which must lie inside the model's folder (symbolic links resolved):
    /// a model from elsewhere must not make mpq read arbitrary files such as `../../etc/passwd`.
    private func confinedURL(_ location: String, tensor name: String) throws -> URL {
        let base = baseDirectory.standardizedFileURL.resolvingSymlinksInPath().path
        let url = baseDirectory.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard !location.hasPrefix("/"), url.path.hasPrefix(prefix) else {
            throw ONNXError.externalData(tensor: name, file: location, reason: "the path leaves the model's folder; external data must lie beside the model")
        }
        return url
    }

    /// Reads the bytes an external-data tensor points at (location, offset, length keys).
    private func externalBytes(_ p: Onnx_TensorProto, name: String) throws -> Data {
        var entries: [String: String] = [:]
        for e in p.externalData { entries[e.key] = e.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ONNXError.externalData(tensor: name, file: "?", reason: "the tensor has no 'location' entry")
        }
        let url = try confinedURL(location, tensor: name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ONNXError.externalData(tensor: name, file: url.path, reason: "no such file; keep the weights file next to the model")
        }
        let offset = Int(entries["offset"] ?? "0") ?? -1
        guard offset >= 0 else {
            throw ONNXError.externalData(tensor: name, file: location, reason: "invalid offset '\(entries["offset"] ?? "")'")
        }
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw ONNXError.externalData(tensor: name, file: url.path, reason: "cannot open (\(error.localizedDescription))")
        }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        let length: Int
        if let l = entries["length"] {
            guard let parsed = Int(l), parsed >= 0 else {
                throw ONNXError.externalData(tensor: name, file: location, reason: "invalid length '\(l)'")
            }
            length = parsed
        } else {
            length = size - offset
        }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            throw ONNXError.externalData(tensor: name, file: location, reason: "offset \(offset) + length \(length) lies beyond the file's \(size) bytes")
        }
        try handle.seek(toOffset: UInt64(offset))
        return try handle.read(upToCount: length) ?? Data()
    }
}

/// Converts IEEE half (or bfloat16) bits to Float.
private func halfBits(_ bits: UInt16, bfloat: Bool) -> Float {
    if bfloat { return Float(bitPattern: UInt32(bits) << 16) }
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24.
        let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -value : value
    }
    if exponent == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}
