#if canImport(Glibc)
import CMalloc
#endif

/// The process's policy for large allocations.
///
/// glibc serves big blocks (activations of a whole batch are megabytes) with fresh `mmap`s and
/// returns them on free, so every forward pass page-faults and zeroes its buffers again: a fifth of a
/// quantized evaluation's time on mobilenet-digits, and a quarter of an EfficientNet-Lite forward
/// pass at batch 16, whose activations (up to 77 MB) are past the largest mmap threshold glibc
/// accepts (32 MB). So `mmap` is switched off for the heap: every block comes from the heap, and
/// each pass reuses the previous one's memory (same peak resident set on EfficientNet-Lite,
/// 49 → 58 samples/s on one thread, 82 → 115 on two; docs/benchmarks.md).
///
/// Every thread allocates from the one heap, which keeps up to 2 GiB free at its top: a joint search
/// frees a gigabyte-sized state after each evaluation, and with a 1 GiB trim threshold and
/// per-thread arenas (`mmap`ed 64 MB heaps, released when empty) the next evaluation page-faulted its
/// buffers afresh (MiniLM's refinement, 100 evaluations with two batches side by side: 37.1 s and
/// 3.7 M page faults; 28.9 s with this policy). Never trimming at all was as fast there but let the
/// EfficientNet-Lite sweep's resident set grow from 5 GB to 13 GB.
public enum AllocationPolicy {
    /// Serves every block from one heap and keeps up to 2 GiB of freed memory mapped at its top.
    /// Call once at start-up; a no-op where the C library is not glibc.
    public static func reuseLargeBuffers() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_ARENA_MAX, 1)
        #endif
    }
}
