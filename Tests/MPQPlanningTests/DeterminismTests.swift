import Foundation
@testable import MPQPlanning
import Testing

/// Same inputs, one or two threads: the sweep's workers, the kernels' threads and the measurements change
/// nothing in plan.json but its timings.
@Test func planIsTheSameWithOneOrTwoThreads() throws {
    var files: [NSDictionary] = []
    for threads in [1, 2] {
        var request = try digitsRequest("threads-\(threads)", validation: true)
        request.stepSearch = .bestP
        request.threads = threads
        request.refinement = PlanRequest.Refinement(maxEvaluations: 12)
        let result = try PlanPipeline(request: request).run()
        try result.write()
        let data = try Data(contentsOf: request.outputDirectory.appendingPathComponent("plan.json"))
        files.append(try #require(withoutTimings(try JSONSerialization.jsonObject(with: data)) as? NSDictionary))
    }
    #expect(files[0]["tensors"] != nil && files[0]["pareto"] != nil)
    #expect(files[0] == files[1])
}

/// A plan file's JSON without its wall-clock fields.
private func withoutTimings(_ value: Any) -> Any {
    if let object = value as? [String: Any] {
        return object.filter { $0.key != "seconds" }.mapValues(withoutTimings)
    }
    if let array = value as? [Any] { return array.map(withoutTimings) }
    return value
}
