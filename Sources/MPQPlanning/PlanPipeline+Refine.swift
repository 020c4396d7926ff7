import MPQLAPQ

extension PlanPipeline {
    /// The chosen plan's steps: kept from its measurement at the budget when it is that plan, else from the measurer
    /// (today's step search is deterministic, so the loss is the one the plan was chosen by).
    public func chosenSteps(_ assignment: [Int], kept: (assignment: [Int], result: StepSearchResult)?,
                            measurements: inout PlanMeasurements) throws -> StepSearchResult {
        if let kept, kept.assignment == assignment { return kept.result }
        return try measurements.measurer.steps(for: assignment)
    }

    /// Validation metrics of the steps the plan keeps (nil without validation data). They are not always the
    /// steps its measurement validated: the composed measurer validates the sweep's quantizers, and with
    /// `searchesChosenPlan` the chosen plan keeps the whole-model search's steps when those measure lower.
    public func validation(of steps: StepSearchResult) throws -> ValidationMetrics? {
        guard let validation = prepared.validation else { return nil }
        return try validation.metrics(under: StepSearch.settings(steps.quantizers, multipliers: steps.multipliers,
                                                                 biasCorrection: steps.biasCorrection,
                                                                 biases: search.biases(in: prepared.graph)))
    }

    /// Stage 6: LAPQ's last step on the chosen plan: bias correction and the joint search over all its steps,
    /// stopped early on held-out calibration samples; losses reported on all calibration data.
    public func refine(_ steps: StepSearchResult, validationBefore: ValidationMetrics?,
                       settings: PlanRequest.Refinement) throws -> RefinedSteps {
        try JointRefinement(settings, lossKind: request.loss)
            .refine(steps.quantizers, calibration: prepared.calibration, session: &workspace.session, batchSize: request.batchSize,
                    lossBefore: steps.loss, validationBefore: validationBefore, validation: prepared.validation) { done, total in
                onEvent(.progress(.refinement, done: done, total: total))
            }
    }
}
