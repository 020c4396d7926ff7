import MPQGraph
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major layout arithmetic shared by the shape and data-movement operators.
enum TensorLayout {
    /// Row-major strides (in elements) of a shape.
    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        var i = shape.count - 1
        while i >= 0 {
            s[i] = acc
            acc = acc &* shape[i]
            i -= 1
        }
        return s
    }

    /// Product of dimensions (1 for an empty list).
    static func product<C: Collection>(_ dims: C) -> Int where C.Element == Int {
        var p = 1
        for d in dims { p = p &* d }
        return p
    }

    /// "[2, 3, 4]" for messages.
    static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

extension OperatorContext {
    /// `axis` normalised into `0..<rank` (or `0...rank` when `allowEnd`), or an error naming the
    /// attribute and the valid range.
    func normalizedAxis(_ axis: Int, rank: Int, name: String = "axis", allowEnd: Bool = false) throws -> Int {
        let upper = allowEnd ? rank : rank - 1
        let lower = allowEnd ? -rank : -rank
        guard axis >= lower, axis <= upper, upper >= 0 || allowEnd else {
            throw invalid("\(name) \(axis) is out of range for a rank-\(rank) input; use a value in [\(lower), \(upper)]")
        }
        return axis < 0 ? axis + rank : axis
    }

    /// A list of axes normalised into `0..<rank`, checked for range and duplicates.
    func normalizedAxes(_ axes: [Int], rank: Int, name: String = "axes") throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(axes.count)
        for a in axes {
            guard a >= -rank, a < rank else {
                throw invalid("\(name) \(TensorLayout.describe(axes)) contains \(a), out of range for a rank-\(rank) tensor; use values in [\(-rank), \(rank - 1)]")
            }
            let n = a < 0 ? a + rank : a
            guard !out.contains(n) else {
                throw invalid("\(name) \(TensorLayout.describe(axes)) names axis \(n) more than once; list each axis once")
            }
            out.append(n)
        }
        return out
    }

    /// The integer elements of a constant int tensor (int64, or float holding integers), as Ints.
    func constantInts(_ index: Int, what: String) throws -> [Int] {
        let t = try constant(index, what: what)
        switch t.storage {
        case .int64(let v): return v.map { Int(truncatingIfNeeded: $0) }
        case .float, .bool:
            throw invalid("\(what) (input #\(index)) must be an int64 tensor, found \(t.elementType)")
        }
    }
}

/// The node name and op type, kept by compiled operators to label errors raised while running.
struct OperatorLabel: Sendable {
    let node: String
    let opType: String

    init(_ context: OperatorContext) {
        node = context.node.displayName
        opType = context.node.opType
    }

    func error(_ reason: String) -> GraphError {
        GraphError.invalidInput(node: node, opType: opType, reason: reason)
    }

    /// The input at `index`, or an error when it is missing.
    func input(_ inputs: [Tensor?], _ index: Int) throws -> Tensor {
        guard index < inputs.count, let t = inputs[index] else {
            throw error("input #\(index) was not supplied at run time")
        }
        return t
    }

    /// The input at `index` checked against the compiled type.
    func input(_ inputs: [Tensor?], _ index: Int, expecting type: TensorType) throws -> Tensor {
        let t = try input(inputs, index)
        guard t.elementType == type.elementType, t.shape == type.shape else {
            throw error("input #\(index) is \(t.elementType)\(TensorLayout.describe(t.shape)) at run time but was compiled for \(type)")
        }
        return t
    }
}

// MARK: - Element-type-agnostic storage access

extension ElementType {
    /// Bytes per element in tensor storage.
    var storageSize: Int {
        switch self {
        case .float32: return MemoryLayout<Float>.stride
        case .int64: return MemoryLayout<Int64>.stride
        case .bool: return MemoryLayout<Bool>.stride
        }
    }
}

extension Tensor.Storage {
    var elementType: ElementType {
        switch self {
        case .float: return .float32
        case .int64: return .int64
        case .bool: return .bool
        }
    }

    /// Calls `body` with the raw bytes of the elements (nil base for an empty tensor).
    func withRawBytes<R>(_ body: (UnsafeRawPointer?) throws -> R) rethrows -> R {
        switch self {
        case .float(let v): return try v.withUnsafeBytes { try body($0.baseAddress) }
        case .int64(let v): return try v.withUnsafeBytes { try body($0.baseAddress) }
        case .bool(let v): return try v.withUnsafeBytes { try body($0.baseAddress) }
        }
    }

    /// New storage of `count` elements of `type`; `fill` must initialise every element through the
    /// raw pointer (nil when `count` is 0).
    static func make(_ type: ElementType, count: Int,
                     _ fill: (UnsafeMutableRawPointer?) -> Void) -> Tensor.Storage {
        func build<T>(_: T.Type) -> [T] {
            if count == 0 {
                fill(nil)
                return []
            }
            return [T](unsafeUninitializedCapacity: count) { buf, n in
                fill(UnsafeMutableRawPointer(buf.baseAddress))
                n = count
            }
        }
        switch type {
        case .float32: return .float(build(Float.self))
        case .int64: return .int64(build(Int64.self))
        case .bool: return .bool(build(Bool.self))
        }
    }
}

// MARK: - Strided copies

enum StridedCopy {
    /// Copies `dst[i] = src[offset + Σ idx_k · srcStrides[k]]` for every index `idx` of `shape`
    /// in row-major order (strides in elements; 0 broadcasts). `dst` is dense.
    static func gather(src: UnsafeRawPointer, srcOffset: Int = 0, srcStrides: [Int], shape: [Int],
                       dst: UnsafeMutableRawPointer, elementSize: Int) {
        // Drop unit dimensions and merge dimensions that are contiguous with their inner neighbour.
        var dims: [Int] = []
        var strides: [Int] = []
        for (d, s) in zip(shape, srcStrides) where d != 1 {
            if d == 0 { return }
            if let ld = dims.last, let ls = strides.last, ls == s &* d {
                dims[dims.count - 1] = ld &* d
                strides[strides.count - 1] = s
            } else {
                dims.append(d)
                strides.append(s)
            }
        }
        let total = TensorLayout.product(dims)
        if total == 0 { return }
        let inner = dims.last ?? 1
        let innerStride = strides.last ?? 1
        let outer = dims.count > 1 ? Array(dims.dropLast()) : []
        let outerStrides = dims.count > 1 ? Array(strides.dropLast()) : []
        var index = [Int](repeating: 0, count: outer.count)
        var srcElem = srcOffset
        var dstElem = 0
        let runs = total / inner
        for _ in 0..<runs {
            copyRun(src: src + srcElem &* elementSize, stride: innerStride, count: inner,
                    dst: dst + dstElem &* elementSize, elementSize: elementSize)
            dstElem = dstElem &+ inner
            // Advance the odometer over the outer dimensions.
            var k = outer.count - 1
            while k >= 0 {
                index[k] += 1
                srcElem = srcElem &+ outerStrides[k]
                if index[k] < outer[k] { break }
                srcElem = srcElem &- outerStrides[k] &* outer[k]
                index[k] = 0
                k -= 1
            }
        }
    }

    /// Copies `count` elements read with `stride` (elements) into a dense destination.
    static func copyRun(src: UnsafeRawPointer, stride: Int, count: Int, dst: UnsafeMutableRawPointer, elementSize: Int) {
        if stride == 1 {
            memcpy(dst, src, count &* elementSize)
            return
        }
        switch elementSize {
        case 4: run(src.assumingMemoryBound(to: UInt32.self), stride, count, dst.assumingMemoryBound(to: UInt32.self))
        case 8: run(src.assumingMemoryBound(to: UInt64.self), stride, count, dst.assumingMemoryBound(to: UInt64.self))
        case 2: run(src.assumingMemoryBound(to: UInt16.self), stride, count, dst.assumingMemoryBound(to: UInt16.self))
        default:
            if elementSize == 1 {
                run(src.assumingMemoryBound(to: UInt8.self), stride, count, dst.assumingMemoryBound(to: UInt8.self))
            } else {
                for i in 0..<count { memcpy(dst + i &* elementSize, src + i &* stride &* elementSize, elementSize) }
            }
        }
    }

    @inline(__always)
    private static func run<T>(_ s: UnsafePointer<T>, _ stride: Int, _ n: Int, _ d: UnsafeMutablePointer<T>) {
        if stride == 0 {
            let v = s.pointee
            for i in 0..<n { d[i] = v }
        } else {
            var j = 0
            for i in 0..<n {
                d[i] = s[j]
                j = j &+ stride
            }
        }
    }

    /// Fills `count` elements at `dst` with the `elementSize`-byte pattern at `value`.
    static func fill(_ dst: UnsafeMutableRawPointer, count: Int, value: UnsafeRawPointer, elementSize: Int) {
        if count <= 0 { return }
        copyRun(src: value, stride: 0, count: count, dst: dst, elementSize: elementSize)
    }
}
