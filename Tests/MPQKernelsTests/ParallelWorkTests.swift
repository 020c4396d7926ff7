import Foundation
import Testing
@testable import MPQKernels

@Suite struct ParallelWorkTests {
    /// Every item runs once whatever the worker count, each worker from its own copy of the state. (The thread
    /// budget is process-wide and other tests change it concurrently, so it is not asserted here.)
    @Test func everyItemOnceWithOwnState() throws {
        for workers in [1, 2, 3] {
            let seen = Locked([Int](repeating: 0, count: 37))
            try ParallelWork.forEach(37, workers: workers, state: [Int]()) { mine, i in
                mine.append(i)
                #expect(mine.allSatisfy { $0 <= i })  // a worker's own items come in increasing order
                seen.withValue { $0[i] += 1 }
            }
            #expect(seen.withValue { $0 } == [Int](repeating: 1, count: 37))
        }
    }

    struct Failure: Error, Equatable { var item: Int }

    /// The first error stops the workers and is rethrown. Items after the failing one take 2 ms each, so the
    /// other worker cannot drain the queue (2 s of work) in the moment between the throw and its record; without
    /// the pause it sometimes could, and the count was a race.
    @Test func firstErrorIsRethrown() {
        let ran = Locked(0)
        #expect(throws: Failure(item: 5)) {
            try ParallelWork.forEach(1000, workers: 2, state: ()) { _, i in
                ran.withValue { $0 += 1 }
                if i == 5 { throw Failure(item: 5) }
                if i > 5 { Thread.sleep(forTimeInterval: 0.002) }
            }
        }
        #expect(ran.withValue { $0 } >= 6)  // items come in order, so 0...5 all ran
        #expect(ran.withValue { $0 } < 1000)
    }
}
