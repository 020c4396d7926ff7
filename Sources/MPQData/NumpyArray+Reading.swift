import Foundation
import MPQGraph

extension NumpyArray {
    /// Reads a `.npy` file (format versions 1.0, 2.0 and 3.0).
    public init(contentsOf url: URL) throws {
        try self.init(contentsOf: url, maxSamples: nil)
    }

    /// Reads at most the first `maxSamples` samples (axis 0) of a `.npy` file. The file is memory-mapped, so the
    /// samples beyond them are never loaded; `fileSampleCount` is then the file's full first dimension.
    public init(contentsOf url: URL, maxSamples: Int?) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.fileNotFound(path: path)
        }
        guard !isDirectory.boolValue else { throw DataError.unreadableFile(path: path, reason: "it is a directory") }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw DataError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        try self.init(npyData: data, source: path, maxSamples: maxSamples)
    }

    /// Decodes the bytes of a `.npy` file; `source` names it in messages. With `maxSamples`, only the first
    /// samples of a C-order array are decoded (the file's size is still checked against its header). `fileSize` is the
    /// whole file's size when `data` holds only its start (a prefix of at least the samples wanted).
    public init(npyData data: Data, source: String, maxSamples: Int? = nil, fileSize: Int? = nil) throws {
        self = try data.withUnsafeBytes { bytes in
            let header = try NumpyHeader.parse(bytes, path: source)
            guard header.descrIsSimple, let dtype = NumpyDType(descr: header.descr) else {
                throw DataError.unsupportedDType(path: source, dtype: header.descr)
            }
            var count = 1
            for d in header.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw DataError.badHeader(path: source, reason: "shape \(DataError.shapeText(header.shape)) is too large") }
                count = p
            }
            let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow else { throw DataError.badHeader(path: source, reason: "shape \(DataError.shapeText(header.shape)) is too large") }
            let found = (fileSize ?? bytes.count) - header.dataOffset
            if found < expected { throw DataError.truncatedData(path: source, expected: expected, found: found) }
            if found > expected { throw DataError.trailingData(path: source, expected: expected, found: found) }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...])
            if let maxSamples, let first = header.shape.first, maxSamples < first, !header.fortranOrder {
                var shape = header.shape
                shape[0] = maxSamples
                let kept = first == 0 ? 0 : count / first * maxSamples
                guard payload.count >= kept * dtype.size else {
                    throw DataError.truncatedData(path: source, expected: kept * dtype.size, found: payload.count)
                }
                let storage = NumpyArray.decodeElements(payload, dtype: dtype, count: kept)
                var array = NumpyArray(tensor: Tensor(shape: shape, storage: storage), dtype: dtype, source: source)
                array.fileSampleCount = first
                return array
            }
            guard payload.count >= expected else { throw DataError.truncatedData(path: source, expected: expected, found: payload.count) }
            var storage = NumpyArray.decodeElements(payload, dtype: dtype, count: count)
            if header.fortranOrder && header.shape.count > 1 && count > 0 {
                storage = NumpyArray.fortranToC(storage, shape: header.shape)
            }
            return NumpyArray(tensor: Tensor(shape: header.shape, storage: storage), dtype: dtype, source: source,
                              wasFortranOrder: header.fortranOrder)
        }
    }

    /// Converts `count` packed elements of `dtype` to tensor storage.
    static func decodeElements(_ raw: UnsafeRawBufferPointer, dtype: NumpyDType, count: Int) -> Tensor.Storage {
        let swap = dtype.isBigEndian
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            let v = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
            return swap ? v.byteSwapped : v
        }
        switch (dtype.kind, dtype.size) {
        case (.float, 2):
            return .float((0..<count).map { halfToFloat(load(UInt16.self, $0)) })
        case (.float, 4):
            return .float((0..<count).map { Float(bitPattern: load(UInt32.self, $0)) })
        case (.float, 8):
            return .float((0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) })
        case (.signedInteger, 1):
            return .int64((0..<count).map { Int64(load(Int8.self, $0)) })
        case (.signedInteger, 2):
            return .int64((0..<count).map { Int64(load(Int16.self, $0)) })
        case (.signedInteger, 4):
            return .int64((0..<count).map { Int64(load(Int32.self, $0)) })
        case (.signedInteger, 8):
            return .int64((0..<count).map { load(Int64.self, $0) })
        case (.unsignedInteger, 1):
            return .int64((0..<count).map { Int64(load(UInt8.self, $0)) })
        case (.unsignedInteger, 2):
            return .int64((0..<count).map { Int64(load(UInt16.self, $0)) })
        case (.unsignedInteger, 4):
            return .int64((0..<count).map { Int64(load(UInt32.self, $0)) })
        case (.bool, _):
            return .bool((0..<count).map { raw[$0] != 0 })
        default:
            preconditionFailure("NumpyDType admitted an unhandled type \(dtype.descr)")
        }
    }

    /// IEEE 754 binary16 to float32, exactly (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24, exact in float32.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    /// Reorders column-major elements of `shape` into row-major order.
    static func fortranToC(_ storage: Tensor.Storage, shape: [Int]) -> Tensor.Storage {
        switch storage {
        case .float(let v): return .float(fortranToC(v, shape: shape))
        case .int64(let v): return .int64(fortranToC(v, shape: shape))
        case .bool(let v): return .bool(fortranToC(v, shape: shape))
        }
    }

    static func fortranToC<T>(_ source: [T], shape: [Int]) -> [T] {
        let rank = shape.count
        // Column-major strides: the first axis varies fastest.
        var strides = [Int](repeating: 1, count: rank)
        for axis in 1..<rank { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        var result: [T] = []
        result.reserveCapacity(source.count)
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for _ in 0..<source.count {
            result.append(source[offset])
            // Advance the C-order index (last axis fastest), keeping the Fortran offset in step.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                offset += strides[axis]
                if index[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }
}
