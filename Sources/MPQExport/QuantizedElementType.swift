import Foundation
import MPQQuantization
import ONNXProto

/// The ONNX integer element type that holds a quantizer's codes.
///
/// The zero point's type decides what QuantizeLinear produces and what DequantizeLinear reads:
/// bits ≤ 4 → INT4/UINT4, ≤ 8 → INT8/UINT8, ≤ 16 → INT16/UINT16, signed for signed grids (including
/// asymmetric grids with signed storage), unsigned otherwise. A grid narrower than its container
/// (3, 5–7 or 9–15 bits) keeps its codes inside its own range; see `QDQExporter` for what that
/// means for activations.
public enum QuantizedElementType: String, Sendable, CaseIterable {
    case int4, uint4, int8, uint8, int16, uint16

    /// The container for a grid.
    public init(grid: QuantizationGrid) {
        let signed = grid.signedness == .signed
        switch grid.bits {
        case ...4: self = signed ? .int4 : .uint4
        case ...8: self = signed ? .int8 : .uint8
        default: self = signed ? .int16 : .uint16
        }
    }

    /// Bits of the container.
    public var bits: Int {
        switch self {
        case .int4, .uint4: return 4
        case .int8, .uint8: return 8
        case .int16, .uint16: return 16
        }
    }

    public var isSigned: Bool { self == .int4 || self == .int8 || self == .int16 }

    /// The codes the container holds (what QuantizeLinear saturates to).
    public var range: ClosedRange<Int> {
        isSigned ? -(1 << (bits - 1))...((1 << (bits - 1)) - 1) : 0...((1 << bits) - 1)
    }

    /// ONNX TensorProto.DataType.
    public var dataType: Onnx_TensorProto.DataType {
        switch self {
        case .int4: return .int4
        case .uint4: return .uint4
        case .int8: return .int8
        case .uint8: return .uint8
        case .int16: return .int16
        case .uint16: return .uint16
        }
    }

    /// The lowest default-domain opset whose QuantizeLinear/DequantizeLinear accept this type
    /// (per-channel dequantization needs 13 for every type).
    public var minimumOpset: Int { bits == 8 ? 13 : 21 }

    /// Codes as ONNX raw_data: little-endian, and for 4-bit types two codes per byte, the first
    /// in the low nibble; an odd count leaves the last high nibble 0.
    ///
    /// Codes outside `range` are a programming error (they are clamped by the quantizer).
    public func pack(_ codes: [Int32]) -> Data {
        precondition(codes.allSatisfy { range.contains(Int($0)) }, "codes outside the \(rawValue) range")
        switch self {
        case .int4, .uint4:
            var bytes = [UInt8](repeating: 0, count: (codes.count + 1) / 2)
            for (i, c) in codes.enumerated() {
                let nibble = UInt8(truncatingIfNeeded: c) & 0x0F
                bytes[i / 2] |= i % 2 == 0 ? nibble : nibble << 4
            }
            return Data(bytes)
        case .int8, .uint8:
            return Data(codes.map { UInt8(truncatingIfNeeded: $0) })
        case .int16, .uint16:
            var bytes = [UInt8]()
            bytes.reserveCapacity(codes.count * 2)
            for c in codes {
                let v = UInt16(truncatingIfNeeded: c)
                bytes.append(UInt8(v & 0xFF))
                bytes.append(UInt8(v >> 8))
            }
            return Data(bytes)
        }
    }

    /// Inverse of `pack` (for tests and tools): `count` codes from raw_data.
    public func unpack(_ data: Data, count: Int) -> [Int32] {
        let bytes = [UInt8](data)
        switch self {
        case .int4, .uint4:
            return (0..<count).map { i in
                let nibble = (i % 2 == 0 ? bytes[i / 2] : bytes[i / 2] >> 4) & 0x0F
                return self == .int4 && nibble >= 8 ? Int32(nibble) - 16 : Int32(nibble)
            }
        case .int8: return bytes.prefix(count).map { Int32(Int8(bitPattern: $0)) }
        case .uint8: return bytes.prefix(count).map { Int32($0) }
        case .int16, .uint16:
            return (0..<count).map { i in
                let v = UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8
                return self == .int16 ? Int32(Int16(bitPattern: v)) : Int32(v)
            }
        }
    }

    /// An ONNX tensor of codes.
    public func tensorProto(_ codes: [Int32], shape: [Int], name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = shape.map(Int64.init)
        p.dataType = Int32(dataType.rawValue)
        p.rawData = pack(codes)
        return p
    }
}
