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
