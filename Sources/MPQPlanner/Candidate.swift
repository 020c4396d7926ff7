/// One precision a hardware target can run: weight and activation bit widths plus how values are encoded.
///
/// Candidates are named like `W4A8` (4-bit weights, 8-bit activations). A candidate with
/// `numericFormat == .float` is a floating-point fallback (FP16 on a GPU, say): its bit widths are used
/// for cost (size, BOPs, bytes moved) exactly like integer ones.
public struct Candidate: Sendable, Equatable, Hashable, Codable {
    /// Whether quantized values are signed.
    public enum Signedness: String, Sendable, Equatable, Hashable, Codable {
        case signed
        case unsigned
        /// Unsigned when the tensor is non-negative (after ReLU, say), signed otherwise; decided at calibration.
        case auto
    }

    /// How values are stored.
    public enum NumericFormat: String, Sendable, Equatable, Hashable, Codable {
        /// Integer with a scale (and a zero point when asymmetric).
        case int
        /// IEEE-style floating point (FP16, FP8): no scale or zero point is stored.
        case float
    }

    /// The valid bit widths for integer candidates (`minimumBits...maximumBits`).
    public static let minimumBits = 2
    public static let maximumBits = 16

    public var name: String
    public var weightBits: Int
    public var activationBits: Int
    public var weightSigned: Signedness
    public var activationSigned: Signedness
    /// Symmetric quantization stores no zero point.
    public var symmetric: Bool
    /// One scale (and zero point) per output channel rather than per tensor.
    public var perChannel: Bool
    public var numericFormat: NumericFormat

    public init(name: String, weightBits: Int, activationBits: Int, weightSigned: Signedness = .signed,
                activationSigned: Signedness = .auto, symmetric: Bool = true, perChannel: Bool = true,
                numericFormat: NumericFormat = .int) {
        self.name = name
        self.weightBits = weightBits
        self.activationBits = activationBits
        self.weightSigned = weightSigned
        self.activationSigned = activationSigned
        self.symmetric = symmetric
        self.perChannel = perChannel
        self.numericFormat = numericFormat
    }

    /// Bits per weight multiplied by bits per activation: the per-MAC factor of bit operations (BOPs).
    public var bitProduct: Int { weightBits * activationBits }
}
