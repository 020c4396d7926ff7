import ArgumentParser
import Foundation
import MPQPlanning
import MPQSensitivity

/// `mpq sensitivity`: the sensitivity sweep alone, whole or one shard of it, into the cache directory.
struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Measure the sensitivity table (or one shard of it) into the cache directory, for `mpq plan` to use.",
        discussion: """
        Takes the same inputs as `mpq plan` (a budget is not needed). --shard I/N measures the groups of shard I \
        (0-based) of N into its own file beside the table, resumably: run one per Slurm array task or Kubernetes \
        indexed-Job pod on a shared cache directory; `mpq plan` (or `mpq sensitivity --merge`) merges them. Threads \
        default to SLURM_CPUS_PER_TASK when set.
        """
    )

    @OptionGroup var plan: PlanCommand

    @Option(help: "Measure only shard I of N (0 ≤ I < N), e.g. 0/3; default: the whole sweep. JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID may stand for I: --shard '$JOB_COMPLETION_INDEX/3'.")
    var shard: String?

    @Flag(help: "Merge the shard files into the table (stops with the shards still to run when some are missing).")
    var merge = false

    func validate() throws {
        if merge && shard != nil { throw ValidationError("--merge and --shard exclude each other") }
    }

    func run() throws {
        var request = try plan.request(requiringBudget: false)
        request.shard = try shard.map(SensitivityShard.init(parsing:))
        Interruption.announce(keeping: "the sensitivity groups", in: request.cacheDirectory)
        defer { Interruption.clear() }
        var renderer = PlanEventRenderer()
        let pipeline = try PlanPipeline(request: request) { renderer.render($0) }
        if merge {
            let url = try pipeline.sensitivityStore().url
            guard !SensitivityShard.files(besides: url).isEmpty || FileManager.default.fileExists(atPath: url.path) else {
                throw UsageProblem("no shard files to merge beside \(url.path): run `mpq sensitivity --shard I/N` first, with the same inputs and --cache-dir")
            }
        }
        let table = try pipeline.sensitivities()
        let measured = table.groups.filter { table.increases[$0] != nil }.count
        let tableURL = try pipeline.sensitivityStore().url
        let file = request.shard.map { $0.file(besides: tableURL) } ?? tableURL
        print("\(measured) of \(table.groups.count) groups in \(file.path)")
    }
}
