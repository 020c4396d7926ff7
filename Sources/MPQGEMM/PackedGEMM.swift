// AVX-512 packed single-precision GEMM (compiled with -target-cpu znver4).
//
// Never call into this module unless the CPU supports AVX-512F: MPQKernels checks at run time and
// falls back to OpenBLAS otherwise.

/// Row-major `C = A·B` (or `C += A·B`) with a register-blocked 12×32 micro-kernel, packed A and B
/// panels and BLIS-style cache blocking (KC × NC panel of B in L2/L3, MC × KC block of A in L2).
public enum PackedGEMM {
    public static let mr = 12
    public static let nr = 32
    /// Cache-blocking sizes (tuning knobs).
    nonisolated(unsafe) public static var kc = 256
    nonisolated(unsafe) public static var mc = 120
    nonisolated(unsafe) public static var nc = 2048

    /// `C[m×n] = A[m×k] · B[k×n]` (`accumulate`: `C += A·B`), row-major with leading dimensions.
    /// `transA`: A is stored `k×m`. `transB`: B is stored `n×k`.
    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, transA: Bool = false,
                             b: UnsafePointer<Float>, ldb: Int, transB: Bool = false,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
            return
        }
        let kcMax = min(kc, k), ncMax = min(nc, (n + nr - 1) / nr * nr), mcMax = min(mc, (m + mr - 1) / mr * mr)
        let bp = UnsafeMutableRawPointer.allocate(byteCount: kcMax * ncMax * 4, alignment: 64).assumingMemoryBound(to: Float.self)
        let apk = UnsafeMutableRawPointer.allocate(byteCount: kcMax * mcMax * 4, alignment: 64).assumingMemoryBound(to: Float.self)
        let tile = UnsafeMutableRawPointer.allocate(byteCount: mr * nr * 4, alignment: 64).assumingMemoryBound(to: Float.self)
        defer { bp.deallocate(); apk.deallocate(); tile.deallocate() }
        var jc = 0
        while jc < n {
            let nb = min(ncMax, n &- jc)
            var pc = 0
            while pc < k {
                let kb = min(kcMax, k &- pc)
                packB(b, ldb: ldb, trans: transB, k0: pc, kb: kb, j0: jc, nb: nb, into: bp)
                let acc = accumulate || pc > 0
                var ic = 0
                while ic < m {
                    let mb = min(mcMax, m &- ic)
                    packA(a, lda: lda, trans: transA, i0: ic, mb: mb, k0: pc, kb: kb, into: apk)
                    var jr = 0
                    while jr < nb {
                        let nn = min(nr, nb &- jr)
                        let bpanel = UnsafePointer(bp) + (jr / nr) &* kb &* nr
                        var ir = 0
                        while ir < mb {
                            let mm = min(mr, mb &- ir)
                            let apanel = UnsafePointer(apk) + (ir / mr) &* kb &* mr
                            let cp = c + ((ic &+ ir) &* ldc &+ (jc &+ jr))
                            if mm == mr && nn == nr {
                                kernel(kb, apanel, bpanel, cp, ldc, acc)
                            } else {
                                kernel(kb, apanel, bpanel, tile, nr, false)
                                for i in 0..<mm {
                                    let row = cp + i &* ldc, t = tile + i &* nr
                                    if acc { for j in 0..<nn { row[j] += t[j] } } else { row.update(from: t, count: nn) }
                                }
                            }
                            ir &+= mr
                        }
                        jr &+= nr
                    }
                    ic &+= mb
                }
                pc &+= kb
            }
            jc &+= nb
        }
    }

    /// Packs rows `i0..<i0+mb`, columns `k0..<k0+kb` of op(A) into MR-row panels: panel p holds, for
    /// each k, the MR values of rows p·MR… (zero past the last row).
    @inline(__always)
    static func packA(_ a: UnsafePointer<Float>, lda: Int, trans: Bool, i0: Int, mb: Int, k0: Int, kb: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        var p = 0
        while p < mb {
            let rows = min(mr, mb &- p)
            let d = dst + (p / mr) &* kb &* mr
            if trans {
                for kk in 0..<kb {
                    let src = a + ((k0 &+ kk) &* lda &+ (i0 &+ p))
                    let o = d + kk &* mr
                    for i in 0..<rows { o[i] = src[i] }
                    for i in rows..<mr { o[i] = 0 }
                }
            } else {
                for i in 0..<rows {
                    let src = a + ((i0 &+ p &+ i) &* lda &+ k0)
                    for kk in 0..<kb { d[kk &* mr &+ i] = src[kk] }
                }
                if rows < mr { for kk in 0..<kb { for i in rows..<mr { d[kk &* mr &+ i] = 0 } } }
            }
            p &+= mr
        }
    }

    /// Packs rows `k0..<k0+kb`, columns `j0..<j0+nb` of op(B) into 32-column panels (zero-padded).
    @inline(__always)
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, trans: Bool, k0: Int, kb: Int, j0: Int, nb: Int,
                      into dst: UnsafeMutablePointer<Float>) {
        var q = 0
        while q < nb {
            let cols = min(nr, nb &- q)
            let d = dst + (q / nr) &* kb &* nr
            if trans {
                for j in 0..<cols {
                    let src = b + ((j0 &+ q &+ j) &* ldb &+ k0)
                    for kk in 0..<kb { d[kk &* nr &+ j] = src[kk] }
                }
                if cols < nr { for kk in 0..<kb { for j in cols..<nr { d[kk &* nr &+ j] = 0 } } }
            } else if cols == nr {
                for kk in 0..<kb {
                    let src = UnsafeRawPointer(b + ((k0 &+ kk) &* ldb &+ (j0 &+ q)))
                    let o = UnsafeMutableRawPointer(d + kk &* nr)
                    o.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    (o + 64).storeBytes(of: (src + 64).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                }
            } else {
                for kk in 0..<kb {
                    let src = b + ((k0 &+ kk) &* ldb &+ (j0 &+ q))
                    let o = d + kk &* nr
                    for j in 0..<cols { o[j] = src[j] }
                    for j in cols..<nr { o[j] = 0 }
                }
            }
            q &+= nr
        }
    }

    /// The 12×32 micro-kernel: C[12×32] (=|+=) Ap[kc×12]ᵀ · Bp[kc×32].
    @inline(__always)
    static func kernel(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        let z = SIMD16<Float>(repeating: 0)
        var c00 = z, c01 = z
        var c10 = z, c11 = z
        var c20 = z, c21 = z
        var c30 = z, c31 = z
        var c40 = z, c41 = z
        var c50 = z, c51 = z
        var c60 = z, c61 = z
        var c70 = z, c71 = z
        var c80 = z, c81 = z
        var c90 = z, c91 = z
        var c100 = z, c101 = z
        var c110 = z, c111 = z
        var ap = a
        var bq = UnsafeRawPointer(b)
        for _ in 0..<kc {
            let b0 = bq.load(as: SIMD16<Float>.self), b1 = (bq + 64).load(as: SIMD16<Float>.self)
            let a0 = SIMD16<Float>(repeating: ap[0]); c00 = c00.addingProduct(a0, b0); c01 = c01.addingProduct(a0, b1)
            let a1 = SIMD16<Float>(repeating: ap[1]); c10 = c10.addingProduct(a1, b0); c11 = c11.addingProduct(a1, b1)
            let a2 = SIMD16<Float>(repeating: ap[2]); c20 = c20.addingProduct(a2, b0); c21 = c21.addingProduct(a2, b1)
            let a3 = SIMD16<Float>(repeating: ap[3]); c30 = c30.addingProduct(a3, b0); c31 = c31.addingProduct(a3, b1)
            let a4 = SIMD16<Float>(repeating: ap[4]); c40 = c40.addingProduct(a4, b0); c41 = c41.addingProduct(a4, b1)
            let a5 = SIMD16<Float>(repeating: ap[5]); c50 = c50.addingProduct(a5, b0); c51 = c51.addingProduct(a5, b1)
            let a6 = SIMD16<Float>(repeating: ap[6]); c60 = c60.addingProduct(a6, b0); c61 = c61.addingProduct(a6, b1)
            let a7 = SIMD16<Float>(repeating: ap[7]); c70 = c70.addingProduct(a7, b0); c71 = c71.addingProduct(a7, b1)
            let a8 = SIMD16<Float>(repeating: ap[8]); c80 = c80.addingProduct(a8, b0); c81 = c81.addingProduct(a8, b1)
            let a9 = SIMD16<Float>(repeating: ap[9]); c90 = c90.addingProduct(a9, b0); c91 = c91.addingProduct(a9, b1)
            let a10 = SIMD16<Float>(repeating: ap[10]); c100 = c100.addingProduct(a10, b0); c101 = c101.addingProduct(a10, b1)
            let a11 = SIMD16<Float>(repeating: ap[11]); c110 = c110.addingProduct(a11, b0); c111 = c111.addingProduct(a11, b1)
            ap += 12
            bq += 128
        }
        @inline(__always) func st(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
            let r = UnsafeMutableRawPointer(p)
            if accumulate {
                r.storeBytes(of: r.loadUnaligned(as: SIMD16<Float>.self) + v0, as: SIMD16<Float>.self)
                (r + 64).storeBytes(of: (r + 64).loadUnaligned(as: SIMD16<Float>.self) + v1, as: SIMD16<Float>.self)
            } else {
                r.storeBytes(of: v0, as: SIMD16<Float>.self)
                (r + 64).storeBytes(of: v1, as: SIMD16<Float>.self)
            }
        }
        st(c00, c01, c + 0 &* ldc)
        st(c10, c11, c + 1 &* ldc)
        st(c20, c21, c + 2 &* ldc)
        st(c30, c31, c + 3 &* ldc)
        st(c40, c41, c + 4 &* ldc)
        st(c50, c51, c + 5 &* ldc)
        st(c60, c61, c + 6 &* ldc)
        st(c70, c71, c + 7 &* ldc)
        st(c80, c81, c + 8 &* ldc)
        st(c90, c91, c + 9 &* ldc)
        st(c100, c101, c + 10 &* ldc)
        st(c110, c111, c + 11 &* ldc)
    }
}
