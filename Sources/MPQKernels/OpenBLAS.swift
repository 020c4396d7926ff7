#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS, loaded on first use rather than linked.
///
/// The product's matrix products go to oneDNN; OpenBLAS serves only `MPQ_GEMM=openblas`, the packed kernel's narrow
/// products (`MPQ_GEMM=packed`) and comparisons in tests. Linked, it started its worker threads when the process
/// loaded, and they spin (`sched_yield`) for about 0.1 s waiting for work that never came: on two cores that took
/// half the machine from a process's first forward passes (mobilenet-digits at 2 threads: 6 passes after 2 warm-ups
/// at 19.5k samples/s instead of 37k). Stopping them with OpenBLAS's own `blas_thread_shutdown_` raced with a
/// worker going to sleep and hung the process; not loading the library is the fix that cannot.
enum OpenBLAS {
    private typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                              UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void
    private typealias GetThreads = @convention(c) () -> Int32

    private struct Library {
        let sgemm: SGEMM
        let setThreads: SetThreads
        let getThreads: GetThreads
    }

    /// The library's entry points, or nil when it cannot be loaded (then `available` is false).
    private static let library: Library? = {
        #if canImport(Glibc)
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let s = dlsym(handle, "cblas_sgemm"), let set = dlsym(handle, "openblas_set_num_threads"),
                  let get = dlsym(handle, "openblas_get_num_threads") else { continue }
            return Library(sgemm: unsafeBitCast(s, to: SGEMM.self), setThreads: unsafeBitCast(set, to: SetThreads.self),
                           getThreads: unsafeBitCast(get, to: GetThreads.self))
        }
        #endif
        return nil
    }()

    /// Whether OpenBLAS could be loaded (Debian: `libopenblas0`).
    static var available: Bool { library != nil }

    /// Row-major `C = alpha · op(A) · op(B) + beta · C` (`cblas_sgemm`); OpenBLAS must be `available`.
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard let library else { preconditionFailure("OpenBLAS is not available: install libopenblas0 or use MPQ_GEMM=onednn") }
        // CBLAS constants: row-major 101, no transpose 111, transpose 112.
        library.sgemm(101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                      b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sets OpenBLAS's (process-global) thread count when it differs (loading the library on first use; a no-op
    /// where it cannot be loaded).
    static func setThreads(_ n: Int) {
        guard let library else { return }
        let n = Int32(max(1, n))
        if library.getThreads() != n { library.setThreads(n) }
    }
}
