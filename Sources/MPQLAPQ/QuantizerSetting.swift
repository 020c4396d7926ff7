import MPQExecutor
import MPQGraph

/// One tensor's quantization setting: an identifying key (to detect changes) and the transform.
public struct QuantizerSetting: Sendable, Equatable {
    /// Equal keys mean equal transforms (e.g. the grid and step values, serialised).
    public let key: String
    public let transform: TensorHooks.Transform
    /// The transform reading a buffer that stays shared, when it has a cheaper form than a copy and `transform`.
    public let outOfPlace: TensorHooks.OutOfPlace?
    /// Whether the transform acts on each element alone, the same way at every position (`TensorHooks.perElement`).
    public let actsPerElement: Bool

    public init(key: String, actsPerElement: Bool = false, transform: @escaping TensorHooks.Transform,
                outOfPlace: TensorHooks.OutOfPlace? = nil) {
        self.key = key
        self.actsPerElement = actsPerElement
        self.transform = transform
        self.outOfPlace = outOfPlace
    }

    public static func == (a: QuantizerSetting, b: QuantizerSetting) -> Bool { a.key == b.key }

    /// The exact bit patterns of `values` in hexadecimal: a key part that is cheap to build (every evaluation of a
    /// joint search builds one per quantizer; `"\(array)"` goes through the generic printing machinery).
    public static func keyPart(_ values: [Float]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: values.count * 9) { out in
            var k = 0
            for v in values {
                let bits = v.bitPattern
                for d in 0..<8 { out[k + d] = digits[Int((bits >> UInt32(28 - 4 * d)) & 0xF)] }
                out[k + 8] = UInt8(ascii: ",")
                k += 9
            }
            return k
        }
    }
}

extension TensorHooks {
    /// The hooks of one quantizer setting per tensor.
    public init(_ settings: [String: QuantizerSetting]) {
        self.init(settings.mapValues(\.transform))
        outOfPlace = settings.compactMapValues(\.outOfPlace)
        perElement = Set(settings.filter(\.value.actsPerElement).keys)
    }
}
