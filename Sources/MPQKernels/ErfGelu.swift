import Foundation
import MPQGEMM

/// The exact (erf) GELU as exporters write it, `x · ½ · (1 + erf(x / √2))`, evaluated in one pass with
/// the exported graph's own constants and association, so the result is bit-identical to running its
/// five element-wise nodes one after another.
///
/// Exporters differ in how they group the products: the legacy PyTorch exporter writes `(x · a) · ½`,
/// the dynamo exporter `x · (a · ½)`, and `(x · ½) · a` also occurs; `a = erf(x ⊘ c) + k`, where ⊘ is a
/// division or a multiplication by a constant.
public struct ErfGelu: Sendable, Hashable {
    /// How the three factors x, a and the half are grouped.
    public enum Grouping: Int, Sendable, Hashable, CaseIterable {
        /// `(x · a) · h`
        case inputTimesSumFirst = 0
        /// `x · (a · h)`
        case sumTimesHalfFirst = 1
        /// `(x · h) · a`
        case inputTimesHalfFirst = 2
    }

    /// Whether erf's argument is `x / argumentConstant` (else `x · argumentConstant`).
    public var dividesArgument: Bool
    /// The constant erf's argument is formed with (√2 when dividing).
    public var argumentConstant: Float
    /// The constant added to erf (1).
    public var offset: Float
    /// The constant factor (½).
    public var half: Float
    public var grouping: Grouping

    public init(dividesArgument: Bool = true, argumentConstant: Float = Float(2).squareRoot(), offset: Float = 1,
                half: Float = 0.5, grouping: Grouping = .inputTimesSumFirst) {
        self.dividesArgument = dividesArgument
        self.argumentConstant = argumentConstant
        self.offset = offset
        self.half = half
        self.grouping = grouping
    }

    /// The GELU of each lane.
    @inline(__always)
    public func callAsFunction(_ x: VectorMath.V) -> VectorMath.V {
        let c = VectorMath.V(repeating: argumentConstant)
        let t = dividesArgument ? x / c : x * c
        let a = VectorMath.erf(t) + VectorMath.V(repeating: offset)
        let h = VectorMath.V(repeating: half)
        switch grouping {
        case .inputTimesSumFirst: return (x * a) * h
        case .sumTimesHalfFirst: return x * (a * h)
        case .inputTimesHalfFirst: return (x * h) * a
        }
    }

    /// Whether `apply` takes MPQGEMM's sixteen-lane form (AVX-512 CPUs; `MPQ_GELU_AVX512=0` disables it). Both
    /// forms give the same bits.
    static let usesAVX512 = GemmBackend.usesAVX512(unlessDisabledBy: "MPQ_GELU_AVX512")

    /// `dst[i] = gelu(src[i])` (`src` may equal `dst`).
    public func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var src = src, dst = dst, count = count
        if Self.usesAVX512 {
            let done = ErfGelu16.apply(src, dst, count: count, divides: dividesArgument, argument: argumentConstant,
                                       offset: offset, half: half, grouping: grouping.rawValue)
            (src, dst, count) = (src + done, dst + done, count - done)
        }
        // One grouping per call, so the per-lane switch folds away.
        switch grouping {
        case .inputTimesSumFirst: Self.map2(src, dst, count) { self.grouped($0, .inputTimesSumFirst) }
        case .sumTimesHalfFirst: Self.map2(src, dst, count) { self.grouped($0, .sumTimesHalfFirst) }
        case .inputTimesHalfFirst: Self.map2(src, dst, count) { self.grouped($0, .inputTimesHalfFirst) }
        }
    }

    /// `VectorMath.map` two vectors per iteration: erf's long dependency chain leaves the core idle on one.
    @inline(__always)
    private static func map2(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
                             _ f: (VectorMath.V) -> VectorMath.V) {
        var i = 0
        while i &+ 16 <= count {
            let a = f(VectorMath.load(src + i)), b = f(VectorMath.load(src + (i &+ 8)))
            VectorMath.store(a, dst + i)
            VectorMath.store(b, dst + (i &+ 8))
            i &+= 16
        }
        VectorMath.map(src + i, dst + i, count &- i, f)
    }

    @inline(__always)
    private func grouped(_ x: VectorMath.V, _ g: Grouping) -> VectorMath.V {
        var copy = self
        copy.grouping = g
        return copy(x)
    }
}
