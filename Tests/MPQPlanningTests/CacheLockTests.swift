import Foundation
@testable import MPQPlanning
import MPQGraph
import Testing

/// A second holder of the same table's lock waits until the first lets go, and is told who holds it.
@Test func cacheLockMakesASecondHolderWait() throws {
    let store = Paths.temporary("cache-lock").appendingPathComponent("sensitivity-x.json")
    var first: CacheLock? = try CacheLock(for: store)
    #expect(CacheLock.holder(of: store.path + ".lock") == getpid())
    let acquired = DispatchSemaphore(value: 0)
    let waitedFor = LockedBox<Int32?>(nil)
    Thread.detachNewThread {
        let second = try? CacheLock(for: store) { waitedFor.value = $0 }
        acquired.signal()
        withExtendedLifetime(second) {}
    }
    #expect(acquired.wait(timeout: .now() + 0.5) == .timedOut, "the second lock did not wait")
    #expect(waitedFor.value == getpid())
    first = nil
    #expect(acquired.wait(timeout: .now() + 10) == .success, "the second lock was not granted after the first let go")
    withExtendedLifetime(first) {}
}

/// `LabelledData` with `maxSamples` reads only the first samples, equal to a prefix of the whole, with labels cut to match.
@Test func calibrationSamplesApplyBeforeReading() throws {
    let graph = try LoadedModel(path: Paths.example("digits/model.onnx")).graph
    let all = try LabelledData(data: [Paths.example("digits/calib.npy")], labels: Paths.example("digits/calib_labels.npy"), graph: graph)
    let some = try LabelledData(data: [Paths.example("digits/calib.npy")], labels: Paths.example("digits/calib_labels.npy"), graph: graph,
                                maxSamples: 10)
    #expect(some.sampleCount == 10 && some.labels?.count == 10)
    #expect(some.inputs["input"]?.floats == all.prefix(10).inputs["input"]?.floats)
    #expect(some.labels == all.prefix(10).labels)
}

private final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
