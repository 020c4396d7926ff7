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

        /// Samples the scored values of `values` (all of them, or with `skippingZeros` the non-zero ones, `count` in
        /// either case) down to about `size` values; `key` gives a value's magnitude in search-variable units. The
        /// mean error is over `total` values (more than `count` when exact zeros, whose error is 0, were left out).
        /// `sortingKeys: false` leaves the key arrays unsorted.
        ///
        /// Two passes and no copy of the tensor: one takes every stride-th key (the threshold's sample), the other
        /// splits the values at the threshold, keeping every stride-th one below it.
        init(_ values: UnsafeBufferPointer<Float>, skippingZeros: Bool, count n: Int, size: Int, total: Int,
             sortingKeys: Bool = true, key: Magnitude) {
            let stride = max(1, n / size), half = stride / 2
            if skippingZeros {
                var j = 0, next = half
                for v in values where v != 0 {
                    if j == next { bulkKeys.append(key(v)); next &+= stride }
                    j &+= 1
                }
            } else {
                var i = half
                while i < n { bulkKeys.append(key(values[i])); i &+= stride }
            }
            let tailTarget = max(size / 8, 32)
            let rank = max(1, tailTarget / stride)  // the threshold's rank from the top of the stride sample
            if sortingKeys { bulkKeys.sort() }
            var threshold = Float.infinity
            if stride > 1 && bulkKeys.count > tailTarget / stride {
                threshold = sortingKeys ? bulkKeys[max(0, bulkKeys.count - rank)] : Self.largest(rank, of: bulkKeys)
            }
            var bulkCount = 0, nextBulk = half
            for v in values where !(skippingZeros && v == 0) {
                let k = key(v)
                if k >= threshold {
                    tail.append(v); tailKeys.append(k)
                } else {
                    if bulkCount == nextBulk { bulk.append(v); nextBulk &+= stride }
                    bulkCount &+= 1
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
