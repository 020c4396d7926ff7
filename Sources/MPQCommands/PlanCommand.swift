import ArgumentParser
import Foundation
import MPQExecutor
import MPQGraph
import MPQKernels
import MPQLAPQ
import MPQPlanner
import MPQQuantization
import MPQSensitivity

/// `mpq plan`: per-layer bit-widths under hardware budgets, with the measured trade-off curve.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Choose a precision per layer group under budgets (e.g. 4.5bits, 800KB, 3.5ms, 60%bops).",
        discussion: """
        Sensitivities (LAPQ step search per group and candidate) are cached in --cache-dir and reused when the \
        model, data, profile and settings are unchanged; an interrupted sweep resumes where it stopped. \
        With a project file (mpq.json naming model, calib, labels...) `mpq plan --budget 4.5bits --profile generic-npu` needs no other arguments.
        """
    )

    @Argument(help: "The ONNX model (default: the project file's).")
    var model: String?

    @Option(help: "Calibration inputs (.npy, .npz, or NAME=X.npy).")
    var calib: [String] = []

    @Option(help: "Calibration labels (.npy).")
    var labels: String?

    @Option(help: "Validation inputs.")
    var val: [String] = []

    @Option(name: .customLong("val-labels"), help: "Validation labels (.npy).")
    var valLabels: String?

    @Option(help: "Budget(s): 4.5bits (average weight bits), 2MB / 800KB (weight size), 3.5ms (latency), 60%bops. Repeatable.")
    var budget: [String] = []

    @Option(help: "Hardware profile: a bundled name (generic-npu, dsp-int16, mcu-int8, gpu-tensorcore) or a JSON path.")
    var profile: String?

    @Option(help: "Calibration loss: kl (default: KL divergence from the FP32 outputs, which grows with every deviation even where a trained model's cross-entropy on its own data is saturated) | cross-entropy | mse | cosine | sqnr.")
    var loss: String?

    @Option(help: "While measuring one group, the rest of the model is fp32 (default) or highest.")
    var baseline = "fp32"

    @Option(name: .customLong("step-search"), help: "Step search for sensitivities and measurements: lapq-layerwise (Lp clipping at the best p of the sweep; default, the most stable), lapq-quadratic (p* of a quadratic fit), mmse, minmax.")
    var stepSearch: String?

    @Option(name: .customLong("pareto-points"), help: "Budget values in the Pareto sweep (0 skips it).")
    var paretoPoints = 20

    @Option(help: "Plans the ILP proposes per budget (the plan's own and every Pareto point): the K best by predicted loss, found by no-good cuts, each measured; the best measured one is kept. 1: the ILP optimum alone, unmeasured alternatives not considered.")
    var proposals = 3

    @Option(name: .customLong("tie-tolerance"), help: "The BOPs tie-break: among plans whose predicted loss is within this fraction of the optimum, the one with the fewest BOPs. With --proposals above 1 it is one more proposal (default 0.01; 0 leaves it out); with --proposals 1 it replaces the optimum (default 0: off).")
    var tieTolerance: Double?

    @Flag(name: .customLong("no-measure"), help: "Skip measuring plans (predicted losses only).")
    var noMeasure = false

    @Option(help: "How proposals are measured: composed (the sweep's per-group quantizers, one evaluation each) or step-search (LAPQ's whole-model search per plan).")
    var measurement: PlanMeasurementMode = .composed

    @Flag(name: .customLong("no-refine"), help: "Skip the joint refinement (bias correction + Powell over all steps) of the chosen plan.")
    var noRefine = false

    @Option(name: .customLong("refine-evaluations"), help: "Loss evaluations allowed to the joint refinement.")
    var refineEvaluations = 400

    @Flag(name: .customLong("no-activation-cache"), help: "Run every evaluation in full instead of re-running only what changed (for benchmarks).")
    var noActivationCache = false

    @Flag(name: .customLong("keep-first-last"), help: "Keep the first and last quantized layers in FP32.")
    var keepFirstLast = false

    @Option(name: .customLong("batch-size"), help: "Samples per forward pass.")
    var batchSize: Int?

    @Option(name: .customLong("calib-samples"), help: "Use only the first N calibration samples (default: all).")
    var calibSamples: Int?

    @Option(name: .customLong("cache-dir"), help: "Where sensitivity tables are kept.")
    var cacheDir = ".mpq-cache"

    @Option(name: .customLong("output-dir"), help: "Where plan.json and the Pareto files go.")
    var outputDir = "."

    @Option(help: "A project file (default: ./mpq.json when present).")
    var project: String?

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard SensitivitySweep.Baseline(rawValue: baseline) != nil else {
            throw ValidationError("--baseline must be fp32 or highest, got '\(baseline)'")
        }
        if let stepSearch, StepSearch.Initialization(rawValue: stepSearch) == nil {
            throw ValidationError("--step-search must be one of lapq-layerwise, lapq-quadratic, mmse, minmax; got '\(stepSearch)'")
        }
        if let tieTolerance, !(tieTolerance >= 0 && tieTolerance < 1) {
            throw ValidationError("--tie-tolerance must be in [0, 1), got \(tieTolerance)")
        }
        guard proposals >= 1, proposals <= 100 else { throw ValidationError("--proposals must be between 1 and 100, got \(proposals)") }
        guard paretoPoints >= 0 else { throw ValidationError("--pareto-points must be 0 or more") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive") }
        if let calibSamples, calibSamples <= 0 { throw ValidationError("--calib-samples must be positive, got \(calibSamples)") }
    }

    func run() throws {
        if let threads { KernelThreads.count = threads }
        let inputs = try PlanInputs(command: self)
        var job = try PlanJob(inputs: inputs)
        let summary = try job.run(paretoPoints: paretoPoints, measure: !noMeasure, refine: !noRefine && !noMeasure,
                                  refineEvaluations: refineEvaluations)
        if json {
            print(try JSONOutput.encode(summary))
        } else {
            summary.printText()
        }
    }
}

/// The resolved inputs of `mpq plan`: command-line options over the project file.
struct PlanInputs {
    var model: String
    var calib: [String]
    var labels: String?
    var val: [String]
    var valLabels: String?
    var budgets: [BudgetConstraint]
    var profile: HardwareProfile
    var profileText: String
    var loss: String?
    var baseline: SensitivitySweep.Baseline
    var keepFirstLast: Bool
    var reuseActivations: Bool
    var stepSearch: StepSearch.Initialization
    var batchSize: Int
    /// At most this many calibration samples (the first ones), or all.
    var calibSamples: Int?
    /// Relative loss tolerance of the BOPs tie-break (nil: the default for the number of proposals).
    var tieTolerance: Double?
    /// Plans proposed per budget (1: the ILP optimum alone).
    var proposals: Int
    var measurement: PlanMeasurementMode
    var cacheDir: URL
    var outputDir: URL

    init(command c: PlanCommand) throws {
        let project = try ProjectFile.load(c.project)
        let base = project?.1
        func resolve(_ path: String?) -> String? {
            guard let path else { return nil }
            guard let base, !path.hasPrefix("/") else { return path }
            return base.appendingPathComponent(path).path
        }
        guard let model = c.model ?? resolve(project?.0.model) else {
            throw UsageProblem("no model given: pass MODEL, or run where an mpq.json names one")
        }
        // Absolute, so that plan.json names the model wherever it is exported from.
        self.model = URL(fileURLWithPath: model).standardizedFileURL.path
        calib = !c.calib.isEmpty ? c.calib : (resolve(project?.0.calib).map { [$0] } ?? [])
        guard !calib.isEmpty else { throw UsageProblem("no calibration data: pass --calib X.npy, or name 'calib' in mpq.json") }
        labels = c.labels ?? resolve(project?.0.labels)
        val = !c.val.isEmpty ? c.val : (resolve(project?.0.val).map { [$0] } ?? [])
        valLabels = c.valLabels ?? resolve(project?.0.valLabels)
        let budgetTexts = !c.budget.isEmpty ? c.budget : (project?.0.budget ?? [])
        guard !budgetTexts.isEmpty else { throw UsageProblem("no budget: pass --budget 4.5bits (or 800KB, 3.5ms, 60%bops)") }
        budgets = try BudgetConstraint.parseList(budgetTexts)
        guard let profileName = c.profile ?? project?.0.profile else {
            throw UsageProblem("no hardware profile: pass --profile generic-npu (or a JSON path)")
        }
        let directories = Self.profileDirectories(projectBase: base)
        profile = try HardwareProfile.load(nameOrPath: profileName, searchDirectories: directories)
        // The profile file's text keys the sensitivity cache (its in-memory form has unordered dictionaries).
        let stem = profileName.hasSuffix(".json") ? String(profileName.dropLast(5)) : profileName
        let file = FileManager.default.fileExists(atPath: profileName) ? URL(fileURLWithPath: profileName)
            : directories.map { $0.appendingPathComponent(stem + ".json") }.first { FileManager.default.fileExists(atPath: $0.path) }
        profileText = file.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? profile.name
        loss = c.loss ?? project?.0.loss
        baseline = SensitivitySweep.Baseline(rawValue: c.baseline) ?? .fp32
        keepFirstLast = c.keepFirstLast
        reuseActivations = !c.noActivationCache
        let stepSearchName = c.stepSearch ?? project?.0.stepSearch ?? StepSearch.Initialization.bestP.rawValue
        guard let search = StepSearch.Initialization(rawValue: stepSearchName) else {
            throw UsageProblem("step search '\(stepSearchName)' (mpq.json step_search) is not one of lapq-layerwise, lapq-quadratic, mmse, minmax")
        }
        stepSearch = search
        calibSamples = c.calibSamples ?? project?.0.calibSamples
        if let n = calibSamples, n <= 0 { throw UsageProblem("calib_samples in mpq.json must be positive, got \(n)") }
        batchSize = c.batchSize ?? project?.0.batchSize ?? 256
        tieTolerance = c.tieTolerance
        proposals = c.proposals
        measurement = c.measurement
        cacheDir = URL(fileURLWithPath: c.cacheDir)
        outputDir = URL(fileURLWithPath: c.outputDir)
    }

    /// Where bundled profiles are looked for: ./hardware-profiles, the project's, MPQ_PROFILE_PATH,
    /// and the repository's next to the built binary.
    static func profileDirectories(projectBase: URL?) -> [URL] {
        var dirs = [URL(fileURLWithPath: "hardware-profiles")]
        if let projectBase { dirs.append(projectBase.appendingPathComponent("hardware-profiles")) }
        if let env = ProcessInfo.processInfo.environment["MPQ_PROFILE_PATH"] {
            dirs += env.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        for up in ["../../hardware-profiles", "../../../hardware-profiles", "../share/mpq/hardware-profiles"] {
            dirs.append(binary.appendingPathComponent(up).standardized)
        }
        // The source tree this binary was built from (tests and `swift run`).
        dirs.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../hardware-profiles").standardized)
        return dirs
    }
}

extension PlanMeasurementMode: ExpressibleByArgument {}
