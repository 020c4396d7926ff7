import CBLAS
import Foundation
import MPQGEMM

/// Which SGEMM implementation `Gemm` uses.
public enum GemmBackend: Sendable {
    case openBLAS
    /// MPQGEMM's AVX-512 packed kernel (only when the CPU has AVX-512F).
    case packedAVX512

    /// Whether this CPU supports AVX-512F (read once from /proc/cpuinfo; false where unavailable).
    public static let cpuHasAVX512F: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        for line in info.split(separator: "\n") where line.hasPrefix("flags") {
            return line.split(separator: " ").contains("avx512f")
        }
        return false
    }()

    /// The default: the AVX-512 kernel when the CPU supports it, unless `MPQ_GEMM=openblas`.
    public static let preferred: GemmBackend = {
        if ProcessInfo.processInfo.environment["MPQ_GEMM"] == "openblas" { return .openBLAS }
        return cpuHasAVX512F ? .packedAVX512 : .openBLAS
    }()
}

/// Single-precision matrix products on row-major buffers (thin wrappers over OpenBLAS `cblas_sgemm`).
public enum Gemm {
    /// The backend for products `Gemm` computes; setting `.packedAVX512` on a CPU without AVX-512F
    /// is ignored (OpenBLAS is used).
    nonisolated(unsafe) public static var backend: GemmBackend = GemmBackend.preferred
    /// `C = alpha · op(A) · op(B) + beta · C`, all row-major.
    ///
    /// - `op(A)` is `M×K`: `A` is `M×K` with leading dimension `lda ≥ K`, or, when `transA`, `K×M`
    ///   with `lda ≥ M`. Likewise `op(B)` is `K×N` (`B` is `K×N`, or `N×K` when `transB`).
    /// - `C` is `M×N` with leading dimension `ldc ≥ N`. With `beta == 0`, `C` need not be initialised.
    /// - Uses `threads` OpenBLAS threads (default `KernelThreads.count`).
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int? = nil) {
        Parallel.setBLASThreads(threads ?? KernelThreads.count)
        raw(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// Whether products go to MPQGEMM's AVX-512 kernel (selected and supported by the CPU).
    static var usesPackedKernel: Bool { backend == .packedAVX512 && GemmBackend.cpuHasAVX512F }

    /// `sgemm` without touching OpenBLAS's thread count (for use inside parallel regions).
    @inline(__always)
    static func raw(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // OpenBLAS handles K == 0, but make the result explicit: C = beta · C.
            for i in 0..<m {
                let row = c + i &* ldc
                if beta == 0 { row.update(repeating: 0, count: n) } else { for j in 0..<n { row[j] *= beta } }
            }
            return
        }
        // The packed kernel's 32-column panels waste work on narrow products; OpenBLAS wins below
        // 64 columns (measured: 32×16×288 at 31 vs 67 GFLOP/s, 64×3136×576 at 106-145 vs 87).
        if usesPackedKernel && n >= 64 && alpha == 1 && (beta == 0 || beta == 1) {
            PackedGEMM.sgemm(m: m, n: n, k: k, a: a, lda: lda, transA: transA, b: b, ldb: ldb, transB: transB,
                             c: c, ldc: ldc, accumulate: beta == 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
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
