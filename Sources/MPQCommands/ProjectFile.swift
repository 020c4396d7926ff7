import Foundation
import MPQPlanner

/// `mpq.json` in the working directory: the model, data and defaults, so `mpq plan` needs only a budget.
///
/// Paths are relative to the project file's folder. Every field is optional; command-line options win.
struct ProjectFile: Codable {
    var model: String?
    var calib: String?
    var labels: String?
    var val: String?
    var valLabels: String?
    var loss: String?
    var profile: String?
    var budget: [String]?
    var batchSize: Int?
    var calibSamples: Int?
    var stepSearch: String?
    var pSweepSamples: String?
    var pSweepFinalists: Int?
    var pSweepBelowBits: Int?
    var sensitivitySamples: String?
    /// `PATTERN=CANDIDATE` strings, as `--pin` takes them.
    var pins: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, calib, labels, val, loss, profile, budget, pins
        case valLabels = "val_labels"
        case batchSize = "batch_size"
        case calibSamples = "calib_samples"
        case stepSearch = "step_search"
        case pSweepSamples = "p_sweep_samples"
        case pSweepFinalists = "p_sweep_finalists"
        case pSweepBelowBits = "p_sweep_below_bits"
        case sensitivitySamples = "sensitivity_samples"
    }

    /// Reads `path` (or `./mpq.json` when it exists and no path is given); nil when there is none.
    static func load(_ path: String?) throws -> (ProjectFile, URL)? {
        let url = URL(fileURLWithPath: path ?? "mpq.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            if let path { throw UsageProblem("project file \(path) does not exist") }
            return nil
        }
        do {
            let file = try StrictJSON.decode(ProjectFile.self, from: url)
            try checkKnownFields(url)
            return (file, url.deletingLastPathComponent())
        } catch let problem as StrictJSON.Problem {
            throw UsageProblem("project file \(problem)")
        }
    }

    /// Refuses fields mpq does not read: a misspelt `calib_sample` would otherwise be ignored without a word.
    private static func checkKnownFields(_ url: URL) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else { return }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw UsageProblem("project file \(url.path): unknown field '\(unknown)'; the fields are \(known.sorted().joined(separator: ", "))")
        }
    }
}
