#if canImport(Glibc)
import CMalloc
#endif

/// The process's policy for large allocations.
///
/// glibc serves big blocks (activations of a whole batch are megabytes) with fresh `mmap`s and
/// returns them on free, so every forward pass page-faults and zeroes its buffers again: a fifth of a
/// quantized evaluation's time on mobilenet-digits. Keeping blocks up to 32 MB in the heap lets each
/// pass reuse the previous one's memory.
public enum AllocationPolicy {
    /// Serves blocks up to 32 MB (glibc's largest setting) from the heap and keeps freed memory
    /// mapped. Call once at start-up; a no-op where the C library is not glibc.
    public static func reuseLargeBuffers() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }
}
