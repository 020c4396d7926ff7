import CDNNL
import Foundation

/// One convolution's weights in the layout its oneDNN primitive reads, reordered once per weight array
/// instead of on every call.
///
/// The executor's weights are Swift arrays that stay the same between forward passes unless a quantization
/// hook hands in another array. The cache keeps the array it reordered: holding it keeps its buffer alive, so
/// while cached no other contents can appear at that address, and an array at the same address with the same
/// count is the same, unchanged array (a write to it would have copied it first). A different array is
/// reordered again and replaces the entry. ResNet-18 at batch 8 reordered 47 MB of weights four times per
/// forward pass (≈ 11 % of it) before this.
public final class ConvolutionWeightCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: PreparedWeights?
    /// The weights last prepared for Winograd, with the array they came from (kept alive, as `entry`'s).
    private var winogradEntry: (source: [Float], prepared: [Float])?

    public init() {}

    /// The weights prepared for `conv` (`WinogradConvolution.preparedWeights`), from the cache when `weights` is the
    /// array prepared last the same way (kept and per-call forms differ in size).
    func winogradWeights(_ weights: [Float], for conv: WinogradConvolution) -> [Float] {
        lock.lock()
        let known = winogradEntry
        lock.unlock()
        if let known, known.prepared.count == conv.preparedWeightCount, isSameArray(known.source, weights) {
            return known.prepared
        }
        let made = weights.withUnsafeBufferPointer { conv.preparedWeights($0.baseAddress!) }
        lock.lock()
        winogradEntry = (weights, made)
        lock.unlock()
        return made
    }

    /// The weights reordered for `conv`, from the cache when `weights` is the array reordered last for the same
    /// layout; nil when the primitive reads the plain layout (nothing to reorder).
    func prepared(_ weights: [Float], for conv: OneDNNConvolution) -> PreparedWeights? {
        lock.lock()
        let known = entry
        lock.unlock()
        if let known, known.isReordering(weights), conv.readsWeights(like: known) { return known }
        guard let made = conv.prepare(weights) else { return nil }
        lock.lock()
        entry = made
        lock.unlock()
        return made
    }
}

/// Weights reordered into a primitive's layout, with the plain array they came from (kept so its buffer stays
/// alive and unchanged while this exists).
final class PreparedWeights: @unchecked Sendable {
    let source: [Float]
    /// The layout of `buffer`.
    let layout: UnsafeMutablePointer<dnnl_memory_desc_t>
    let buffer: UnsafeMutableRawPointer

    init(source: [Float], layout: dnnl_memory_desc_t, byteCount: Int) {
        self.source = source
        self.layout = .allocate(capacity: 1)
        self.layout.initialize(to: layout)
        buffer = .allocate(byteCount: max(byteCount, 64), alignment: 64)
    }

    deinit {
        layout.deallocate()
        buffer.deallocate()
    }

    /// Whether `weights` is the array these were reordered from (same buffer, same count).
    func isReordering(_ weights: [Float]) -> Bool { isSameArray(source, weights) }
}

/// Whether two arrays share one buffer of the same count: while one of them is held, the same unchanged array.
private func isSameArray(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { $0.baseAddress == x.baseAddress } }
}
