import ArgumentParser
import Foundation
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
        case is SensitivityError, is ShardError, is PlanningError, is PinError, is BudgetParseError, is HardwareProfileError, is StrictJSON.Problem:
            return dataError
        case is ExportError:
            return unsupported
        case is OutputProblem, is PlanOutputError:
            return cannotCreate
        case let e as CocoaError:
            // Foundation's own errors (a directory where a file was expected, permissions): a file problem.
            return e.code == .fileReadNoSuchFile ? noInput : dataError
        default:
            return nil
        }
    }

    /// A single-line message for an error.
    public static func message(for error: Error) -> String {
        if let e = error as? CocoaError {
            // "The operation could not be completed (NSCocoaErrorDomain Code=256)" says nothing; name the file.
            let known = e.filePath ?? e.url?.path ?? (e.userInfo[NSFilePathErrorKey] as? String)
            let path = known ?? "a file"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                return "\(path): is a directory, not a file"
            }
            if let known, case let parent = URL(fileURLWithPath: known).deletingLastPathComponent().path,
               !FileManager.default.fileExists(atPath: parent) {
                return "\(path): the directory \(parent) does not exist; create it or choose another path"
            }
            return "\(path): cannot be read or written (\(e.localizedDescription))"
        }
        return oneLine(String(describing: error))
    }

    /// `text` with line breaks and other control characters (which file names and budget strings may hold)
    /// escaped, so that every message is exactly one line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator, .format:
                out += scalar == "\n" ? " " : "\\u{\(String(scalar.value, radix: 16))}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A problem with how options were combined, found after parsing.
public struct UsageProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
