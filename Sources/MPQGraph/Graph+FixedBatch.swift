extension Graph {
    /// The batch size the model fixes, when every input declares the same fixed size on axis 0
    /// (e.g. `[1, 3, 224, 224]` from an export for edge deployment); nil for a symbolic batch axis.
    ///
    /// Such a model runs on any number of samples in batches of exactly this size, the last one padded.
    public var fixedBatchSize: Int? {
        var batch: Int? = nil
        for input in inputs {
            guard let first = input.shape?.first, case .fixed(let n) = first, n > 0, batch == nil || batch == n else { return nil }
            batch = n
        }
        return batch
    }
}
