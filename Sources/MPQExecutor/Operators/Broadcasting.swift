import MPQGraph
import MPQKernels

/// NumPy-style multidirectional broadcasting.
enum Broadcasting {
    /// The broadcast shape of two shapes, or nil when some aligned dimensions differ and neither is 1.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db { out[i] = da }
            else if da == 1 { out[i] = db }
            else if db == 1 { out[i] = da }
            else { return nil }
        }
        return out
    }

    /// Strides (in elements) for reading a tensor of `shape` as if it had the broadcast shape `out`
    /// (right-aligned; 0 along broadcast dimensions). `shape` must broadcast to `out`.
    static func strides(of shape: [Int], broadcastTo out: [Int]) -> [Int] {
        let own = TensorLayout.strides(shape)
        let lead = out.count - shape.count
        var s = [Int](repeating: 0, count: out.count)
        for i in 0..<shape.count where shape[i] != 1 {
            s[i + lead] = own[i]
        }
        return s
    }

    /// An iteration plan for a binary element-wise operation on broadcast operands: unit
    /// dimensions dropped and adjacent dimensions merged whenever both operands allow it, so
    /// same-shape, scalar and per-channel cases reduce to a few long inner runs.
    struct BinaryPlan: Sendable {
        /// Collapsed output dimensions (at least one).
        var dims: [Int]
        var aStrides: [Int]
        var bStrides: [Int]
        /// Total output elements.
        var count: Int

        init(a: [Int], b: [Int], out: [Int]) {
            let sa = Broadcasting.strides(of: a, broadcastTo: out)
            let sb = Broadcasting.strides(of: b, broadcastTo: out)
            var dims: [Int] = []
            var aS: [Int] = []
            var bS: [Int] = []
            for i in 0..<out.count where out[i] != 1 {
                let d = out[i]
                if let ld = dims.last, aS[aS.count - 1] == sa[i] &* d, bS[bS.count - 1] == sb[i] &* d {
                    dims[dims.count - 1] = ld &* d
                    aS[aS.count - 1] = sa[i]
                    bS[bS.count - 1] = sb[i]
                } else {
                    dims.append(d)
                    aS.append(sa[i])
                    bS.append(sb[i])
                }
            }
            if dims.isEmpty {
                dims = [1]; aS = [0]; bS = [0]
            }
            self.dims = dims
            self.aStrides = aS
            self.bStrides = bS
            self.count = TensorLayout.product(out)
        }

        /// The number of inner runs `forEachRun` visits.
        var runCount: Int { count == 0 ? 0 : count / dims[dims.count - 1] }

        /// `forEachRun` for output elements `elements` only, where `elements` starts and ends on run
        /// boundaries, or, for a single run (`dims.count == 1`), anywhere.
        func forEachRun(elements: Range<Int>, _ body: (Int, Int, Int, Int, Int, Int) throws -> Void) rethrows {
            if elements.isEmpty { return }
            let inner = dims[dims.count - 1]
            let aStep = aStrides[aStrides.count - 1], bStep = bStrides[bStrides.count - 1]
            let outerRank = dims.count - 1
            if outerRank == 0 {
                let o = elements.lowerBound
                try body(o &* aStep, o &* bStep, o, elements.count, aStep, bStep)
                return
            }
            var index = [Int](repeating: 0, count: outerRank)
            var rest = elements.lowerBound / inner
            var ao = 0, bo = 0
            for k in stride(from: outerRank - 1, through: 0, by: -1) {
                index[k] = rest % dims[k]
                rest /= dims[k]
                ao = ao &+ index[k] &* aStrides[k]
                bo = bo &+ index[k] &* bStrides[k]
            }
            var oo = elements.lowerBound
            for _ in 0..<(elements.count / inner) {
                try body(ao, bo, oo, inner, aStep, bStep)
                oo = oo &+ inner
                var k = outerRank - 1
                while k >= 0 {
                    index[k] += 1
                    ao = ao &+ aStrides[k]
                    bo = bo &+ bStrides[k]
                    if index[k] < dims[k] { break }
                    ao = ao &- aStrides[k] &* dims[k]
                    bo = bo &- bStrides[k] &* dims[k]
                    index[k] = 0
                    k -= 1
                }
            }
        }

        /// Calls `body` for the inner runs, in parallel over blocks of whole runs (or of one long
        /// run) on up to `KernelThreads.count` threads when the tensor is large.
        func forEachRunInParallel(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
            let inner = dims[dims.count - 1]
            // Units the work is cut at: elements of a single run, else whole runs.
            let unit = dims.count == 1 ? 16 : inner
            if count == 0 { return }
            let units = (count + unit - 1) / max(unit, 1)
            KernelThreads.forEachRange(count: units, grain: max(1, Self.parallelGrain / max(unit, 1))) { r in
                let end = r.upperBound == units ? count : r.upperBound &* unit
                forEachRun(elements: (r.lowerBound &* unit)..<end, body)
            }
        }

        /// `activation(a ∘ b)` broadcast to the output, as a new array (runs in parallel: the cut changes no value).
        func floats(_ kernel: ElementwiseBinary, _ a: [Float], _ b: [Float], then activation: Activation = .none) -> [Float] {
            if count == 0 { return [] }
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                a.withUnsafeBufferPointer { ab in
                    b.withUnsafeBufferPointer { bb in
                        let ap = ab.baseAddress!, bp = bb.baseAddress!, op = out.baseAddress!
                        forEachRunInParallel { ao, bo, oo, n, aStep, bStep in
                            kernel.run(ap + ao, aStep: aStep, bp + bo, bStep: bStep, op + oo, count: n, then: activation)
                        }
                    }
                }
                initialized = count
            }
        }

        /// Elements below which an element-wise operation stays on one thread.
        static let parallelGrain = 1 << 16

        /// Calls `body(aOffset, bOffset, outOffset, n, aStep, bStep)` for each inner run, where
        /// the steps are the operands' inner strides (1, or 0 when broadcast).
        func forEachRun(_ body: (Int, Int, Int, Int, Int, Int) throws -> Void) rethrows {
            try forEachRun(elements: 0..<count, body)
        }
    }

    /// `t` repeated along broadcast dimensions to the shape `out` (which `t.shape` must broadcast to).
    static func expand(_ t: Tensor, to out: [Int]) -> Tensor {
        if t.shape == out { return t }
        let type = t.elementType
        let count = TensorLayout.product(out)
        let strides = Broadcasting.strides(of: t.shape, broadcastTo: out)
        let storage = t.storage.withRawBytes { src in
            Tensor.Storage.make(type, count: count) { dst in
                guard let dst, let src else { return }
                StridedCopy.gather(src: src, srcStrides: strides, shape: out, dst: dst, elementSize: type.storageSize)
            }
        }
        return Tensor(shape: out, storage: storage)
    }
}

extension Broadcasting.BinaryPlan {
    /// `f` applied element-wise to broadcast operands, as a dense array of the output shape.
    @inline(__always)
    func map<A, B, R>(_ x: [A], _ y: [B], _ f: (A, B) -> R) -> [R] {
        let n = count
        if n == 0 { return [] }
        return [R](unsafeUninitializedCapacity: n) { out, initialized in
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeBufferPointer { yb in
                    let xp = xb.baseAddress!, yp = yb.baseAddress!, op = out.baseAddress!
                    forEachRun { ao, bo, oo, count, aStep, bStep in
                        let xs = xp + ao, ys = yp + bo, os = op + oo
                        if aStep == 1 && bStep == 1 {
                            for i in 0..<count { (os + i).initialize(to: f(xs[i], ys[i])) }
                        } else if aStep == 1 {
                            let v = ys.pointee
                            for i in 0..<count { (os + i).initialize(to: f(xs[i], v)) }
                        } else if bStep == 1 {
                            let u = xs.pointee
                            for i in 0..<count { (os + i).initialize(to: f(u, ys[i])) }
                        } else {
                            let r = f(xs.pointee, ys.pointee)
                            for i in 0..<count { (os + i).initialize(to: r) }
                        }
                    }
                }
            }
            initialized = n
        }
    }
}
