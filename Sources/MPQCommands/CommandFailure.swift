import ArgumentParser
import MPQData
import MPQExecutor
import MPQExport
import MPQGraph
import MPQLAPQ
import MPQONNX
import MPQPlanner
import MPQPlanning
import MPQQuantization
import MPQSensitivity

/// Maps the library's typed errors to one-line messages and exit codes (BSD sysexits values).
public enum CommandFailure {
    /// Input data is malformed: a bad model, data file, or data that does not fit the model.
    public static let dataError: Int32 = 65
    /// An input file does not exist.
    public static let noInput: Int32 = 66
    /// The model uses something mpq does not support.
    public static let unsupported: Int32 = 69
    /// Writing an output failed.
    public static let cannotCreate: Int32 = 73

    /// The exit code for a library error, or nil for errors ArgumentParser reports itself.
    public static func exitCode(for error: Error) -> Int32? {
        switch error {
        case let e as ONNXError:
            if case .fileNotFound = e { return noInput }
            if case .unsupportedOpset = e { return unsupported }
            if case .unsupportedDataType = e { return unsupported }
            return dataError
        case let e as DataError:
            if case .fileNotFound = e { return noInput }
            if case .writeFailed = e { return cannotCreate }
            return dataError
        case let e as GraphError:
            if case .unsupportedOperator = e { return unsupported }
            return dataError
        case is ExecutionError, is ONNXModel.ShapeProblem, is UsageProblem, is InputProblem, is QuantizationError, is StepSearchError:
            return dataError
        case is SensitivityError, is PlanningError, is BudgetParseError, is HardwareProfileError:
            return dataError
        case is ExportError:
            return unsupported
        case is OutputProblem, is PlanOutputError:
            return cannotCreate
        default:
            return nil
        }
    }

    /// A single-line message for an error.
    public static func message(for error: Error) -> String {
        String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}

/// A problem with how options were combined, found after parsing.
public struct UsageProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
