import ArgumentParser
import MPQExport
import MPQLAPQ
import MPQQuantization
import MPQSensitivity

// Options that take one of a fixed set of values parse straight into the library's enums.

extension CalibrationLoss: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
    public static var allValueStrings: [String] { allCases.map(\.name) }
    /// One line per loss in `--help` (by name: the default form keys them by raw value, which help does not list).
    public static var allValueDescriptions: [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, $0.helpText) })
    }

    private var helpText: String {
        switch self {
        case .crossEntropy: "mean cross-entropy with the calibration labels"
        case .klDivergence: "mean KL divergence of the quantized output distribution from the FP32 one"
        case .meanSquaredError: "mean squared error against the FP32 outputs"
        case .cosineDistance: "mean cosine distance to the FP32 outputs"
        case .negativeSQNR: "the outputs' signal-to-quantization-noise ratio in dB, negated (lower is better)"
        }
    }
}

extension SensitivitySweep.Baseline: ExpressibleByArgument {}

extension StepSearch.Initialization: ExpressibleByArgument {}

extension PSweepSamples: ExpressibleByArgument {}

extension SensitivitySamples: ExpressibleByArgument {}

extension StepSearch.CoordinateOrder: ExpressibleByArgument {}

extension StepSearch.JointOptimizer: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["powell", "bobyqa"] }
}

extension Encodings.Version: ExpressibleByArgument {}

extension QDQExporter.EightBitWeights: ExpressibleByArgument {}

extension PlanMeasurementMode: ExpressibleByArgument {}
