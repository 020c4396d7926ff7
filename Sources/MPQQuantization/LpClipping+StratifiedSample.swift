extension LpClipping {
    /// A stand-in for a large tensor in the Lp error: its largest magnitudes in full (they decide the
    /// clipping error) and a stride sample of the rest, each part weighted back to the whole.
    ///
    /// A plain subsample would miss the rare outliers that set the clipping (a transformer's FFN outputs
    /// hold a few values 100× the bulk); keeping the top ~`size`/8 magnitudes whole keeps them.
    struct StratifiedSample {
        /// The values at or above the tail threshold, all of them.
        var tail: [Float] = []
        /// Every stride-th value below the threshold.
        var bulk: [Float] = []
        /// The tail's magnitudes, ascending.
        var tailKeys: [Float] = []
        /// A stride sample of all magnitudes, ascending (for quantile candidates) unless not sorting.
        var bulkKeys: [Float] = []
        /// Share of `total` each part's mean stands for.
        var tailWeight = 0.0, bulkWeight = 0.0

        /// Samples `values` (with `keys`, their magnitudes in search-variable units) down to about
        /// `size` values; the mean error is over `total` values (more than `values` when exact zeros,
        /// whose error is 0, were left out). `sortingKeys: false` leaves the key arrays unsorted.
        init(values: [Float], keys: [Float], size: Int, total: Int, sortingKeys: Bool = true) {
            let n = values.count
            let stride = max(1, n / size)
            var i = stride / 2
            while i < n { bulkKeys.append(keys[i]); i += stride }
            let tailTarget = max(size / 8, 32)
            let rank = max(1, tailTarget / stride)  // the threshold's rank from the top of the stride sample
            if sortingKeys { bulkKeys.sort() }
            var threshold = Float.infinity
            if stride > 1 && bulkKeys.count > tailTarget / stride {
                threshold = sortingKeys ? bulkKeys[max(0, bulkKeys.count - rank)] : Self.largest(rank, of: bulkKeys)
            }
            var bulkCount = 0
            for k in 0..<n {
                if keys[k] >= threshold {
                    tail.append(values[k]); tailKeys.append(keys[k])
                } else {
                    if bulkCount % stride == stride / 2 { bulk.append(values[k]) }
                    bulkCount += 1
                }
            }
            if sortingKeys { tailKeys.sort() }
            let divisor = Double(max(total, n, 1))
            tailWeight = Double(tail.count) / divisor
            bulkWeight = Double(bulkCount) / divisor
        }

        /// The `rank`-th largest of `keys` (1: the maximum), by a min-heap of the `rank` largest.
        static func largest(_ rank: Int, of keys: [Float]) -> Float {
            var heap: [Float] = []
            heap.reserveCapacity(rank)
            for key in keys {
                if heap.count < rank {
                    heap.append(key)
                    var c = heap.count - 1
                    while c > 0, heap[(c - 1) / 2] > heap[c] { heap.swapAt(c, (c - 1) / 2); c = (c - 1) / 2 }
                } else if key > heap[0] {
                    heap[0] = key
                    var c = 0
                    while true {
                        let l = 2 * c + 1, r = l + 1
                        var m = c
                        if l < heap.count, heap[l] < heap[m] { m = l }
                        if r < heap.count, heap[r] < heap[m] { m = r }
                        if m == c { break }
                        heap.swapAt(c, m); c = m
                    }
                }
            }
            return heap[0]
        }

        /// The estimate of mean(|Q(x) − x|^p) over the whole tensor.
        func meanError(_ params: QuantizerParameters, p: Double) -> Double {
            var e = 0.0
            if !tail.isEmpty { e += tailWeight * tail.withUnsafeBufferPointer { LpClipping.meanError($0, params, p: p) } }
            if !bulk.isEmpty { e += bulkWeight * bulk.withUnsafeBufferPointer { LpClipping.meanError($0, params, p: p) } }
            return e
        }
    }
}
