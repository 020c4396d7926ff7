import Foundation
import MPQLAPQ
import MPQPlanner
import MPQPlanning
import MPQQuantization
import MPQSensitivity

extension PlanCommand {
    /// The plan request of these options, over the project file's values (paths relative to the file).
    func request(requiringBudget: Bool = true) throws -> PlanRequest {
        let project = try ProjectFile.load(self.project)
        let file = project?.0
        let base = project?.1
        func resolve(_ path: String?) -> String? {
            guard let path else { return nil }
            guard let base, !path.hasPrefix("/") else { return path }
            return base.appendingPathComponent(path).path
        }
        guard let model = model ?? resolve(file?.model) else {
            throw UsageProblem("no model given: pass MODEL, or run where an mpq.json names one")
        }
        let calib = !self.calib.isEmpty ? self.calib : (resolve(file?.calib).map { [$0] } ?? [])
        guard !calib.isEmpty else { throw UsageProblem("no calibration data: pass --calib X.npy, or name 'calib' in mpq.json") }
        let budgetTexts = !budget.isEmpty ? budget : (file?.budget ?? [])
        guard !budgetTexts.isEmpty || !requiringBudget else { throw UsageProblem("no budget: pass --budget 4.5bits (or 800KB, 3.5ms, 60%bops)") }
        let budgets = try BudgetConstraint.parseList(budgetTexts)
        guard let profileName = profile ?? file?.profile else {
            throw UsageProblem("no hardware profile: pass --profile generic-npu (or a JSON path)")
        }
        let (profile, profileText) = try Self.loadProfile(profileName, projectBase: base)
        // Absolute, so that plan.json names the model wherever it is exported from.
        var request = PlanRequest(model: URL(fileURLWithPath: model).standardizedFileURL.path, calibration: calib,
                                  labels: labels ?? resolve(file?.labels), budgets: budgets, profile: profile,
                                  profileText: profileText, cacheDirectory: URL(fileURLWithPath: cacheDir),
                                  outputDirectory: URL(fileURLWithPath: outputDir))
        request.validation = !val.isEmpty ? val : (resolve(file?.val).map { [$0] } ?? [])
        request.validationLabels = valLabels ?? resolve(file?.valLabels)
        try applySettings(to: &request, file: file)
        request.measuresMissingShards = measureMissingShards
        request.pins = try (!pin.isEmpty ? pin : (file?.pins ?? [])).map(Pin.init(parsing:))
        return request
    }

    /// The search and measurement settings: options, else the project file's values, else the defaults.
    private func applySettings(to request: inout PlanRequest, file: ProjectFile?) throws {
        if let loss = try loss ?? file?.loss.map(Self.loss(named:)) { request.loss = loss }
        request.baseline = baseline
        request.keepFirstLast = keepFirstLast
        request.reusesActivations = !noActivationCache
        let stepSearchName = file?.stepSearch ?? StepSearch.Initialization.bestP.rawValue
        guard let search = stepSearch ?? StepSearch.Initialization(rawValue: stepSearchName) else {
            throw UsageProblem("step search '\(stepSearchName)' (mpq.json step_search) is not one of lapq-layerwise, lapq-quadratic, mmse, minmax")
        }
        request.stepSearch = search
        let sweepName = file?.pSweepSamples ?? PSweepSamples.probe.rawValue
        guard let sweep = pSweepSamples ?? PSweepSamples(rawValue: sweepName) else {
            throw UsageProblem("p sweep samples '\(sweepName)' (mpq.json p_sweep_samples) is not one of probe, all")
        }
        request.pSweepSamples = sweep
        try SettingCheck.positive(pSweepFinalists, source: "--p-sweep-finalists")
        try SettingCheck.positive(file?.pSweepFinalists, source: "p_sweep_finalists in mpq.json")
        request.pSweepFinalists = pSweepFinalists ?? file?.pSweepFinalists
        try SettingCheck.positive(pSweepBelowBits, source: "--p-sweep-below-bits")
        try SettingCheck.positive(file?.pSweepBelowBits, source: "p_sweep_below_bits in mpq.json")
        request.pSweepBelowBits = pSweepBelowBits ?? file?.pSweepBelowBits
        request.sensitivitySamples = try sensitivitySamples ?? file?.sensitivitySamples.map(Self.sensitivitySamples(named:))
        if request.sensitivitySamples == .probe && sweep == .all {
            throw UsageProblem("sensitivity samples 'probe' need the p sweep on the probe too: drop --p-sweep-samples all (or p_sweep_samples in mpq.json), or measure sensitivities on all samples")
        }
        try SettingCheck.positive(file?.calibSamples, source: "calib_samples in mpq.json")
        try SettingCheck.batchSize(file?.batchSize, source: "batch_size in mpq.json")
        request.calibrationSamples = calibSamples ?? file?.calibSamples
        request.batchSize = batchSize ?? file?.batchSize ?? 256
        request.tieTolerance = tieTolerance
        request.proposals = proposals
        request.paretoPoints = paretoPoints
        request.measures = !noMeasure
        request.measurement = measurement
        request.searchesChosenPlan = searchChosen
        try SettingCheck.nonNegative(refinePatience, source: "--refine-patience")
        request.refinement = noRefine ? nil : PlanRequest.Refinement(maxEvaluations: refineEvaluations,
                                                                     patience: .init(count: refinePatience),
                                                                     coordinateOrder: refineOrder)
        request.threads = try Self.threads(option: threads, environment: ProcessInfo.processInfo.environment)
    }

    /// Kernel threads: `--threads`, else under Slurm the task's allocation (`SLURM_CPUS_PER_TASK`), not every core of
    /// the node; nil (all cores) when neither is given. Either is clamped to the machine's cores; 0 or less is an error.
    static func threads(option: Int?, environment: [String: String]) throws -> Int? {
        if let option { return try SettingCheck.threads(option) }
        guard let text = environment["SLURM_CPUS_PER_TASK"] else { return nil }
        guard let allocated = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw UsageProblem("SLURM_CPUS_PER_TASK must be a whole number of CPUs, got '\(text)'; set --threads instead")
        }
        return try SettingCheck.threads(allocated, source: "SLURM_CPUS_PER_TASK")
    }

    private static func loss(named name: String) throws -> CalibrationLoss {
        guard let loss = CalibrationLoss(name: name) else { throw UsageProblem("loss '\(name)' is not one of cross-entropy, kl, mse, cosine, sqnr") }
        return loss
    }

    private static func sensitivitySamples(named name: String) throws -> SensitivitySamples {
        guard let samples = SensitivitySamples(rawValue: name) else {
            throw UsageProblem("sensitivity samples '\(name)' (mpq.json sensitivity_samples) is not one of all, probe")
        }
        return samples
    }

    /// The profile named (bundled) or at a path, and its file's text, which keys the sensitivity cache.
    static func loadProfile(_ name: String, projectBase: URL?) throws -> (HardwareProfile, String) {
        let directories = profileDirectories(projectBase: projectBase)
        let profile = try HardwareProfile.load(nameOrPath: name, searchDirectories: directories)
        let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
        let file = FileManager.default.fileExists(atPath: name) ? URL(fileURLWithPath: name)
            : directories.map { $0.appendingPathComponent(stem + ".json") }.first { FileManager.default.fileExists(atPath: $0.path) }
        return (profile, file.flatMap { try? String(contentsOf: $0, encoding: .utf8) } ?? profile.name)
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
