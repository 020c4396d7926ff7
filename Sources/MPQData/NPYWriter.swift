import Foundation
import MPQGraph

/// Writes tensors as NumPy `.npy` files (version 1.0, little-endian, C order).
public enum NPYWriter {
    /// The bytes of an `.npy` file holding `tensor`.
    public static func data(for tensor: Tensor) -> Data {
        let descr: String
        var body = Data()
        switch tensor.storage {
        case .float(let v):
            descr = "<f4"
            v.withUnsafeBytes { body.append(contentsOf: $0) }
        case .int64(let v):
            descr = "<i8"
            v.withUnsafeBytes { body.append(contentsOf: $0) }
        case .bool(let v):
            descr = "|b1"
            body.append(contentsOf: v.map { $0 ? UInt8(1) : UInt8(0) })
        }
        let dims = tensor.shape.map(String.init)
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + header length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(body)
        return out
    }

    /// Writes `tensor` to `url` atomically (a temporary file renamed into place).
    public static func write(_ tensor: Tensor, to url: URL) throws {
        do {
            try data(for: tensor).write(to: url, options: .atomic)
        } catch {
            throw DataError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}
