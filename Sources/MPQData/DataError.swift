/// Errors reading NumPy files and validating them against a model's inputs.
///
/// Every message names the file, says what is wrong and how to fix it.
public enum DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file does not start with the `\x93NUMPY` magic string.
    case notNpyFile(path: String)
    /// The format version is not 1.0, 2.0 or 3.0.
    case unsupportedVersion(path: String, major: UInt8, minor: UInt8)
    /// The header is missing, cut short or not a valid dictionary literal.
    case badHeader(path: String, reason: String)
    /// The element type is not one mpq reads.
    case unsupportedDType(path: String, dtype: String)
    /// The file holds fewer data bytes than the shape and dtype need.
    case truncatedData(path: String, expected: Int, found: Int)
    /// The file holds more data bytes than the shape and dtype need.
    case trailingData(path: String, expected: Int, found: Int)
    /// The file is not a zip archive (an `.npz` file is one).
    case notNpzFile(path: String, reason: String)
    /// A named array is not in the `.npz` archive.
    case npzMemberMissing(path: String, member: String, available: [String])
    /// An array's element type does not fit the model input.
    case inputTypeMismatch(path: String, input: String, expectedType: String, expectedShape: String, foundDType: String, foundShape: [Int])
    /// An array's shape does not fit the model input.
    case inputShapeMismatch(path: String, input: String, expectedType: String, expectedShape: String, foundDType: String, foundShape: [Int])
    /// Labels are not integers.
    case labelsNotInteger(path: String, dtype: String)
    /// Labels are not a 1-D array with one label per sample.
    case labelsShapeMismatch(path: String, foundShape: [Int], expectedCount: Int)
    /// A label lies outside `0..<numClasses`.
    case labelOutOfRange(path: String, index: Int, value: Int64, numClasses: Int)
    /// Writing a file failed.
    case writeFailed(path: String, reason: String)
    /// A float input holds NaN or an infinity (at `sample`, flat element `element` of that sample).
    case nonFiniteValue(path: String, sample: Int, element: Int, value: Float)

    /// The NumPy element types mpq reads, as `descr` strings.
    public static let supportedDTypesText = NumpyDType.supportedDescriptions.joined(separator: ", ")

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found. Check the path (relative paths are resolved against the current directory)."
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read the file (\(reason)). Check that it is a readable regular file."
        case .notNpyFile(let path):
            return "\(path): not a NumPy .npy file (it does not start with the magic bytes \\x93NUMPY). Save arrays with numpy.save(path, array)."
        case .unsupportedVersion(let path, let major, let minor):
            return "\(path): unsupported .npy format version \(major).\(minor); mpq reads versions 1.0, 2.0 and 3.0. Re-save it with numpy.save(path, array)."
        case .badHeader(let path, let reason):
            return "\(path): malformed .npy header: \(reason). Re-save the array with numpy.save(path, array)."
        case .unsupportedDType(let path, let dtype):
            return "\(path): unsupported dtype \(dtype); mpq reads \(DataError.supportedDTypesText) (any byte order). Convert it first, e.g. array.astype(numpy.float32) or array.astype(numpy.int64)."
        case .truncatedData(let path, let expected, let found):
            return "\(path): truncated data: expected \(expected) bytes (from the header's shape and dtype), found \(found). The file was cut short; re-create it with numpy.save."
        case .trailingData(let path, let expected, let found):
            return "\(path): too much data: expected \(expected) bytes (from the header's shape and dtype), found \(found). The header does not describe the data; re-create the file with numpy.save."
        case .notNpzFile(let path, let reason):
            return "\(path): not a readable .npz archive (\(reason)). Save archives with numpy.savez(path, name=array) or numpy.savez_compressed."
        case .npzMemberMissing(let path, let member, let available):
            let list = available.isEmpty ? "it holds no arrays" : "it holds: " + available.joined(separator: ", ")
            return "\(path): no array named '\(member)' in the archive; \(list)."
        case .inputTypeMismatch(let path, let input, let expectedType, let expectedShape, let foundDType, let foundShape):
            return "\(path): model input '\(input)' expects \(expectedType) \(expectedShape), but the file holds \(foundDType) \(DataError.shapeText(foundShape)). "
                + "Convert it, e.g. numpy.save(path, array.astype(numpy.\(numpyTypeName(expectedType))))."
        case .inputShapeMismatch(let path, let input, let expectedType, let expectedShape, let foundDType, let foundShape):
            return "\(path): model input '\(input)' expects \(expectedType) \(expectedShape), but the file holds \(foundDType) \(DataError.shapeText(foundShape)). "
                + "Reshape the array to \(expectedShape) (named dimensions such as a batch axis accept any size)."
        case .labelsNotInteger(let path, let dtype):
            return "\(path): labels must be integers, found dtype \(dtype). Convert them with labels.astype(numpy.int64)."
        case .labelsShapeMismatch(let path, let foundShape, let expectedCount) where foundShape.count == 1:
            return "\(path): holds \(foundShape[0]) labels but the inputs have \(expectedCount) samples; give one class index per "
                + "input sample, in the same order (are these the labels of other inputs?)."
        case .labelsShapeMismatch(let path, let foundShape, let expectedCount):
            return "\(path): labels must be a 1-D array of \(expectedCount) class indices (one per sample), found shape \(DataError.shapeText(foundShape)). "
                + "Use labels.reshape(-1) and make sure there is one label per input sample."
        case .labelOutOfRange(let path, let index, let value, let numClasses):
            return "\(path): label \(value) at index \(index) is outside 0..<\(numClasses) (the model has \(numClasses) classes). Labels must be class indices from 0 to \(numClasses - 1)."
        case .nonFiniteValue(let path, let sample, let element, let value):
            return "\(path): sample \(sample) holds \(value) at element \(element); calibration and validation data must be finite. Clean the data, e.g. numpy.nan_to_num(array)."
        case .writeFailed(let path, let reason):
            return "\(path): cannot write the file (\(reason)). Check that the directory exists and is writable."
        }
    }

    /// A concrete shape as text, e.g. `[5, 1, 8, 8]`.
    static func shapeText(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}

private func numpyTypeName(_ elementType: String) -> String {
    switch elementType {
    case "int64": return "int64"
    case "bool": return "bool_"
    default: return "float32"
    }
}
