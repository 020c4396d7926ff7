import CDNNL
import Foundation
import MPQGEMM

/// Which SGEMM implementation `Gemm` uses.
public enum GemmBackend: Sendable {
    case openBLAS
    /// MPQGEMM's AVX-512 packed kernel (only when the CPU has AVX-512F).
    case packedAVX512
    /// oneDNN's JIT `dnnl_sgemm`, one OpenMP thread per call (the default: measured side by side
    /// on the executor's shapes it beat the packed kernel by 10–80 % and OpenBLAS by 0–40 %,
    /// most on small-M pointwise products such as 16×12544×32; docs/benchmarks.md).
    case oneDNN

    /// Whether this CPU supports AVX-512F (read once from /proc/cpuinfo; false where unavailable).
    public static let cpuHasAVX512F: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        for line in info.split(separator: "\n") where line.hasPrefix("flags") {
            return line.split(separator: " ").contains("avx512f")
        }
        return false
    }()

    /// Whether a kernel with an AVX-512 form takes it: on CPUs with AVX-512F, unless the environment variable
    /// `disabledBy` is "0" (for side-by-side comparisons; both forms give the same bits).
    public static func usesAVX512(unlessDisabledBy variable: String) -> Bool {
        cpuHasAVX512F && ProcessInfo.processInfo.environment[variable] != "0"
    }

    /// The default: oneDNN, unless `MPQ_GEMM=openblas` or `MPQ_GEMM=packed` (the AVX-512 kernel,
    /// when the CPU supports it).
    public static let preferred: GemmBackend = {
        switch ProcessInfo.processInfo.environment["MPQ_GEMM"] {
        case "openblas" where OpenBLAS.available: return .openBLAS
        case "packed" where cpuHasAVX512F: return .packedAVX512
        default: return .oneDNN
        }
    }()
}

/// Single-precision matrix products on row-major buffers (oneDNN, OpenBLAS or MPQGEMM).
public enum Gemm {
    /// The backend for products `Gemm` computes; setting `.packedAVX512` on a CPU without AVX-512F
    /// is ignored (OpenBLAS is used).
    nonisolated(unsafe) public static var backend: GemmBackend = GemmBackend.preferred
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major.
    ///
    /// - `op(A)` is `M×K`: `A` is `M×K` with leading dimension `lda ≥ K`, or, when `transA`, `K×M`
    ///   with `lda ≥ M`. Likewise `op(B)` is `K×N` (`B` is `K×N`, or `N×K` when `transB`).
    /// - `C` is `M×N` with leading dimension `ldc ≥ N`. With `beta == 0`, `C` need not be initialised.
    /// - `epilogue` (a column bias, an activation) is applied to each block of C right after it is computed.
    /// - Uses up to `threads` threads (default `KernelThreads.count`). With oneDNN or the packed
    ///   kernel a large product is cut into row (or column) blocks chosen from its shape alone and
    ///   the blocks run in parallel, so the result is bit-identical for every thread count.
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int? = nil, epilogue: GemmEpilogue? = nil) {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc, threads: threads, backend: backend, epilogue: epilogue)
    }

    /// `sgemm` with an explicit backend (tests compare them without touching the global setting).
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      threads: Int?, backend: GemmBackend, epilogue: GemmEpilogue? = nil) {
        let epilogue = epilogue?.isIdentity == false ? epilogue : nil
        let threads = threads ?? KernelThreads.count
        let packed = backend == .packedAVX512 && GemmBackend.cpuHasAVX512F
        if backend == .openBLAS || (backend == .packedAVX512 && !packed) {
            Parallel.setBLASThreads(threads, for: backend)
            raw(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            epilogue?.apply(c, ldc: ldc, rows: 0..<m, columns: 0..<n)
            return
        }
        let (rowBlocks, columnBlocks) = blocks(m: m, n: n, k: k)
        let tasks = rowBlocks * columnBlocks
        let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
        Parallel.forEachChunk(count: tasks, threads: threads) { _, range in
            for t in range {
                // Row blocks are multiples of 16 rows, column blocks of 32 columns (full SIMD panels).
                let r = t / columnBlocks, q = t % columnBlocks
                let rowStep = ((m + rowBlocks - 1) / rowBlocks + 15) & ~15
                let colStep = ((n + columnBlocks - 1) / columnBlocks + 31) & ~31
                let i0 = min(m, r &* rowStep), i1 = min(m, i0 &+ rowStep)
                let j0 = min(n, q &* colStep), j1 = min(n, j0 &+ colStep)
                if i0 >= i1 || j0 >= j1 { continue }
                let aBlock = UnsafePointer(pa.p) + (transA ? i0 : i0 &* lda)
                let bBlock = UnsafePointer(pb.p) + (transB ? j0 &* ldb : j0)
                raw(transA: transA, transB: transB, m: i1 &- i0, n: j1 &- j0, k: k, alpha: alpha, a: aBlock, lda: lda,
                    b: bBlock, ldb: ldb, beta: beta, c: pc.p + (i0 &* ldc &+ j0), ldc: ldc, backend: backend)
                epilogue?.apply(pc.p, ldc: ldc, rows: i0..<i1, columns: j0..<j1)
            }
        }
    }

    /// How `sgemm` cuts an M×N×K product: about 4 Mflop-pairs per block at least, at most 8 blocks,
    /// along the longer side. A function of the shape only (never of the thread count).
    static func blocks(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
        let work = m &* n &* k
        let count = max(1, min(8, work / (1 << 22)))
        if count == 1 { return (1, 1) }
        if m >= n { return (max(1, min(count, m / 64)), 1) }
        return (1, max(1, min(count, n / 64)))
    }

    /// Whether products go to MPQGEMM's AVX-512 kernel (selected and supported by the CPU).
    static var usesPackedKernel: Bool { backend == .packedAVX512 && GemmBackend.cpuHasAVX512F }
    /// Whether products go to a kernel that wins on wide batched products (oneDNN or the packed one).
    static var prefersWideProducts: Bool { backend == .oneDNN || usesPackedKernel }

    /// `sgemm` without touching OpenBLAS's thread count (for use inside parallel regions).
    @inline(__always)
    static func raw(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, backend: GemmBackend = Gemm.backend) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // OpenBLAS handles K == 0, but make the result explicit: C = beta · C.
            for i in 0..<m {
                let row = c + i &* ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
            }
            return
        }
        if backend == .oneDNN {
            // OpenMP's thread count is per calling thread: keep oneDNN to the caller's thread, the
            // executor parallelises outside.
            omp_set_num_threads(1)
            _ = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                           b, Int64(ldb), beta, c, Int64(ldc))
            return
        }
        // The packed kernel's 32-column panels waste work on narrow products; OpenBLAS wins below
        // 64 columns (measured: 32×16×288 at 31 vs 67 GFLOP/s, 64×3136×576 at 106-145 vs 87).
        if backend == .packedAVX512 && GemmBackend.cpuHasAVX512F && n >= 64 && alpha == 1 && (beta == 0 || beta == 1) {
            PackedGEMM.sgemm(m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                             c: c, ldc: ldc, accumulate: beta == 1)
            return
        }
        OpenBLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: c, ldc: ldc)
    }

    /// A batch of equally shaped products `C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i]`, where
    /// matrix `i` starts at `a + aOffsets[i]`, `b + bOffsets[i]`, `c + cOffsets[i]` (element offsets).
    /// The `C` matrices must not overlap. Small products run in parallel over the batch (one
    /// OpenBLAS thread each); a lone large product uses OpenBLAS threading instead.
    public static func sgemmBatched(transA: Bool = false, transB: Bool = false,
                                    m: Int, n: Int, k: Int, alpha: Float = 1,
                                    a: UnsafePointer<Float>, lda: Int, aOffsets: [Int],
                                    b: UnsafePointer<Float>, ldb: Int, bOffsets: [Int],
                                    beta: Float = 0,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, cOffsets: [Int],
                                    threads: Int? = nil) {
        let count = cOffsets.count
        precondition(aOffsets.count == count && bOffsets.count == count, "sgemmBatched: offset arrays differ in length")
        let threads = threads ?? KernelThreads.count
        if count == 1 || threads == 1 {
            Parallel.setBLASThreads(threads)
            for i in 0..<count {
                raw(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a + aOffsets[i], lda: lda,
                    b: b + bOffsets[i], ldb: ldb, beta: beta, c: c + cOffsets[i], ldc: ldc)
            }
            return
        }
        // Batched products are usually small (attention heads): outer parallelism beats OpenBLAS threads.
        let pa = SendablePointer(a), pb = SendablePointer(b), pc = SendablePointer(c)
        Parallel.forEachChunk(count: count, threads: threads) { _, range in
            for i in range {
                raw(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa.p + aOffsets[i], lda: lda,
                    b: pb.p + bOffsets[i], ldb: ldb, beta: beta, c: pc.p + cOffsets[i], ldc: ldc)
            }
        }
    }
}
