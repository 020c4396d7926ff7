import Foundation
import MPQGraph
import MPQLAPQ
import MPQQuantization

/// AIMET / Qualcomm-style quantization encodings (JSON), versions 0.6.1 and 1.0.0.
///
/// Convention (AIMET's): unsigned codes q ∈ [0, 2^b − 1] and x = (q + offset) · scale. mpq's codes c
/// (signed for signed grids) relate by q = c − c₀ with c₀ = −2^(b−1) for signed storage and 0 for
/// unsigned, so offset = c₀ − zeroPoint:
/// - signed symmetric: offset = −2^(b−1), scale = α/(2^(b−1)−1); min = −2^(b−1)·scale, max = (2^(b−1)−1)·scale;
/// - unsigned symmetric (non-negative activations): offset = 0, is_symmetric "True";
/// - asymmetric: offset = −zeroPoint(unsigned) = round(min/scale).
/// min = offset·scale and max = (offset + 2^b − 1)·scale always (for narrow-range grids min is one
/// step below the lowest code used). `bitwidth` is the grid's bits, not the container's: a 6-bit grid
/// says 6 even though the QDQ model stores it in int8.
///
/// Names are the tensor names of the optimized graph as `ONNXWriter` / `QDQExporter` write it
/// (weights keep their initializer names; activations their value names).
public struct Encodings {
    public enum Version: String, Sendable, CaseIterable {
        case v0_6_1 = "0.6.1"
        case v1_0_0 = "1.0.0"
    }

    /// One channel's (or a whole tensor's) encoding in AIMET's convention.
    public struct Channel: Sendable, Equatable {
        public var bitwidth: Int
        public var isSymmetric: Bool
        public var scale: Float
        public var offset: Int
        public var min: Float { Float(offset) * scale }
        public var max: Float { Float(offset + (1 << bitwidth) - 1) * scale }
    }

    public var quantizers: [TensorQuantizer]
    public var multipliers: [Double]?
    /// Layers left in float (names of Conv/Gemm/MatMul nodes whose weight is not quantized).
    public var excludedLayers: [String]

    /// Encodings for quantizers at multipliers; `graph` (optional) gives the excluded layers.
    public init(quantizers: [TensorQuantizer], multipliers: [Double]? = nil, graph: Graph? = nil) throws {
        self.quantizers = quantizers
        self.multipliers = multipliers
        let weights = Set(quantizers.filter { $0.role == .weight }.map(\.name))
        excludedLayers = (graph?.nodes ?? []).filter { node in
            ["Conv", "Gemm", "MatMul", "ConvTranspose"].contains(node.opType)
                && !node.inputs.contains(where: weights.contains)
                && node.inputs.contains(where: { graph?.initializers[$0] != nil })
        }.map(\.displayName)
        for (i, q) in quantizers.enumerated() { _ = try QDQExporter.deployableParameters(q, multiplier: multipliers?[i] ?? 1) }
    }

    /// The per-channel encodings of one quantizer (one entry for per-tensor quantizers).
    public static func channels(_ q: TensorQuantizer, multiplier: Double = 1) throws -> [Channel] {
        let (p, _) = try QDQExporter.deployableParameters(q, multiplier: multiplier)
        let c0 = q.grid.signedness == .signed ? -(1 << (q.grid.bits - 1)) : 0
        return zip(p.scales, p.integerZeroPoints).map { scale, zp in
            Channel(bitwidth: q.grid.bits, isSymmetric: q.grid.symmetric, scale: scale, offset: c0 - zp)
        }
    }

    // MARK: - JSON

    private func entries() throws -> [(TensorQuantizer, [Channel])] {
        try quantizers.enumerated().map { i, q in (q, try Self.channels(q, multiplier: multipliers?[i] ?? 1)) }
    }

    private func quantizerArgs() -> [String: Any] {
        func common(_ role: TensorQuantizer.Role) -> Int {
            let bits = quantizers.filter { $0.role == role }.map(\.grid.bits)
            let counts = Dictionary(bits.map { ($0, 1) }, uniquingKeysWith: +)
            return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }?.key ?? 8
        }
        return [
            "activation_bitwidth": common(.activation),
            "param_bitwidth": common(.weight),
            "dtype": "int",
            "is_symmetric": quantizers.allSatisfy(\.grid.symmetric),
            "per_channel_quantization": quantizers.contains { $0.role == .weight && $0.axis != nil },
            "quant_scheme": "mpq",
        ]
    }

    /// The encodings as a JSON object (Foundation property-list types).
    public func jsonObject(_ version: Version) throws -> [String: Any] {
        let all = try entries()
        var root: [String: Any] = [
            "version": version.rawValue,
            "excluded_layers": excludedLayers,
            "quantizer_args": quantizerArgs(),
        ]
        switch version {
        case .v0_6_1:
            func enc(_ c: Channel) -> [String: Any] {
                ["bitwidth": c.bitwidth, "dtype": "int", "is_symmetric": c.isSymmetric ? "True" : "False",
                 "min": Double(c.min), "max": Double(c.max), "scale": Double(c.scale), "offset": c.offset]
            }
            var activations: [String: Any] = [:], params: [String: Any] = [:]
            for (q, channels) in all {
                if q.role == .weight { params[q.name] = channels.map(enc) } else { activations[q.name] = channels.map(enc) }
            }
            root["activation_encodings"] = activations
            root["param_encodings"] = params
        case .v1_0_0:
            func enc(_ q: TensorQuantizer, _ channels: [Channel]) -> [String: Any] {
                ["name": q.name, "dtype": "INT", "bw": q.grid.bits, "is_sym": q.grid.symmetric,
                 "scale": channels.map { Double($0.scale) }, "offset": channels.map(\.offset),
                 "enc_type": q.axis != nil && q.role == .weight ? "PER_CHANNEL" : "PER_TENSOR"]
            }
            root["activation_encodings"] = all.filter { $0.0.role == .activation }.map(enc)
            root["param_encodings"] = all.filter { $0.0.role == .weight }.map(enc)
        }
        return root
    }

    /// The encodings as pretty-printed JSON with sorted keys.
    public func data(_ version: Version) throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject(version), options: [.prettyPrinted, .sortedKeys])
    }

    public func write(_ version: Version, to url: URL) throws {
        try data(version).write(to: url)
    }
}
