import Foundation
import MPQGraph

/// Transforms applied to named tensors as the executor produces or reads them.
///
/// A hook on an initializer (a weight) changes what every consumer reads; a hook on an
/// activation or graph input changes the value right after it is produced. Fake quantization
/// is the main use: the hook rounds the tensor onto a grid.
public struct TensorHooks: Sendable {
    /// Takes ownership of the tensor, so a transform may rewrite a uniquely referenced buffer in place
    /// (the executor hands over freshly produced activations that nothing else holds).
    public typealias Transform = @Sendable (consuming Tensor) -> Tensor

    /// Reads a tensor whose buffer stays shared and returns the transformed copy.
    public typealias OutOfPlace = @Sendable (Tensor) -> Tensor

    public var transforms: [String: Transform] { didSet { constantResults = ConstantResults() } }
    /// Optional out-of-place forms of `transforms`, used when the executor keeps the unhooked value as well:
    /// one pass from the shared buffer into a new one, where the in-place transform would copy first.
    public var outOfPlace: [String: OutOfPlace] = [:] { didSet { constantResults = ConstantResults() } }
    /// Names whose transform acts on each element alone, the same way at every position (a per-tensor fake
    /// quantizer): a run may apply it to an activation held in the channel-blocked layout.
    public var perElement: Set<String> = []
    /// Hooked constants, shared by every run with these hooks (see `appliedToConstant`); a new, empty one
    /// whenever a hook changes, so copies made before the change keep theirs.
    private var constantResults = ConstantResults()

    public init(_ transforms: [String: Transform] = [:]) { self.transforms = transforms }

    public static let none = TensorHooks()

    /// The hook on `name`; setting it replaces the hook's out-of-place form too.
    public subscript(name: String) -> Transform? {
        get { transforms[name] }
        set {
            transforms[name] = newValue
            outOfPlace[name] = nil
            perElement.remove(name)
        }
    }

    public var isEmpty: Bool { transforms.isEmpty }

    /// The hook on `name` applied to a tensor that stays shared (nil when `name` has none).
    func applied(_ name: String, toShared tensor: Tensor) -> Tensor? {
        if let copying = outOfPlace[name] { return copying(tensor) }
        return transforms[name].map { $0(copy tensor) }
    }

    /// The hook on the constant `name` (a weight) applied once for all runs with these hooks: every batch of a
    /// calibration session reads the same hooked array instead of quantizing the weights again and keeping its own
    /// copy in its activation cache (EfficientNet-Lite's plan, batches of 4 crops: peak 12.2 → 8.1 GB). Nil when `name` has none.
    func appliedToConstant(_ name: String, _ tensor: Tensor) -> Tensor? {
        guard transforms[name] != nil || outOfPlace[name] != nil else { return nil }
        return constantResults.result(name, of: tensor) { applied(name, toShared: tensor) }
    }
}

/// Hook results on constants, by name, each with the tensor it was computed from.
///
/// An entry is used only for the very tensor it came from: holding that tensor keeps its buffer alive, so the same
/// buffer address and shape mean the same, unchanged constant. Hooks are pure functions of their input, so a result
/// computed once stands for every run. A class so that the copies of one `TensorHooks` share it.
final class ConstantResults: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (source: Tensor, result: Tensor?)] = [:]

    /// The result for `name` on `source`, computed by `make` on first use (two runs asking at once may both compute
    /// it; the first stored wins, so all runs read one array).
    func result(_ name: String, of source: Tensor, make: () -> Tensor?) -> Tensor? {
        lock.lock()
        let known = entries[name]
        lock.unlock()
        if let known, known.source.sharesStorage(with: source) { return known.result }
        let made = make()
        lock.lock()
        defer { lock.unlock() }
        if let stored = entries[name], stored.source.sharesStorage(with: source) { return stored.result }
        entries[name] = (source, made)
        return made
    }
}

extension Tensor {
    /// Whether both tensors have the same shape and the same storage buffer (not merely equal elements).
    func sharesStorage(with other: Tensor) -> Bool {
        guard shape == other.shape, elementType == other.elementType else { return false }
        return storage.withRawBytes { a in other.storage.withRawBytes { b in a == b } }
    }
}
