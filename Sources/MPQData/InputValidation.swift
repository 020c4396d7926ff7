import MPQGraph

extension NumpyArray {
    /// Checks that this array can feed the model input `input` and returns it as a tensor.
    ///
    /// Element types: a float input (float32, or a float type mpq converts such as float16/float64) takes
    /// f2/f4/f8 data (converted to float32); an int64 input takes signed or unsigned integer data; a bool
    /// input takes b1 data. Shapes: the rank and every fixed dimension must match; symbolic or unknown
    /// dimensions (such as a batch axis `N`) accept any size. With `anyBatch` (a model that fixes its batch
    /// size, run in batches of that size), axis 0 accepts any sample count too.
    public func validated(against input: ValueInfo, anyBatch: Bool = false) throws -> Tensor {
        let expectedType = input.declaredTypeName.isEmpty ? (input.elementType?.description ?? "?") : input.declaredTypeName
        let compatible: Bool
        switch NumpyArray.expectedKind(of: input) {
        case .float?: compatible = dtype.kind == .float
        case .integer?: compatible = dtype.kind == .signedInteger || dtype.kind == .unsignedInteger
        case .bool?: compatible = dtype.kind == .bool
        case nil: compatible = true
        }
        guard compatible else {
            throw DataError.inputTypeMismatch(path: source, input: input.name, expectedType: expectedType,
                                              expectedShape: input.shapeDescription, foundDType: dtype.descr, foundShape: shape)
        }
        var declared = input
        if anyBatch, var dims = declared.shape, !dims.isEmpty {
            dims[0] = .symbolic("N")
            declared.shape = dims
        }
        guard declared.accepts(shape: shape) else {
            throw DataError.inputShapeMismatch(path: source, input: input.name, expectedType: expectedType,
                                               expectedShape: declared.shapeDescription, foundDType: dtype.descr, foundShape: shape)
        }
        try checkFinite()
        return tensor
    }

    /// Refuses NaN and infinities: they propagate through every loss and the plan would be computed on garbage.
    public func checkFinite() throws {
        guard let values = tensor.floats else { return }
        let perSample = shape.isEmpty ? 1 : max(1, shape.dropFirst().reduce(1, *))
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError.nonFiniteValue(path: source, sample: i / perSample, element: i % perSample, value: values[i])
        }
    }

    private enum ExpectedKind { case float, integer, bool }

    private static func expectedKind(of input: ValueInfo) -> ExpectedKind? {
        switch input.elementType {
        case .float32?: return .float
        case .int64?: return .integer
        case .bool?: return .bool
        case nil:
            // A type mpq converts on import: judge by the declared name.
            let name = input.declaredTypeName.lowercased()
            if name.contains("float") || name.contains("double") { return .float }
            if name.hasPrefix("int") || name.hasPrefix("uint") { return .integer }
            if name == "bool" { return .bool }
            return nil
        }
    }

    /// Checks that this array holds class labels for `sampleCount` samples of a `numClasses`-class
    /// model: integer dtype, 1-D of length `sampleCount`, every value in `0..<numClasses`.
    /// Returns the labels as `Int`.
    public func validatedLabels(sampleCount: Int, numClasses: Int) throws -> [Int] {
        guard dtype.kind == .signedInteger || dtype.kind == .unsignedInteger, let values = tensor.int64s else {
            throw DataError.labelsNotInteger(path: source, dtype: dtype.descr)
        }
        guard shape == [sampleCount] else {
            throw DataError.labelsShapeMismatch(path: source, foundShape: shape, expectedCount: sampleCount)
        }
        var labels: [Int] = []
        labels.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard v >= 0, v < Int64(numClasses) else {
                throw DataError.labelOutOfRange(path: source, index: i, value: v, numClasses: numClasses)
            }
            labels.append(Int(v))
        }
        return labels
    }
}
