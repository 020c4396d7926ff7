import MPQGraph
import MPQLAPQ

/// The calibration sessions the stages of a plan share: the sensitivity sweep, plan measurements and the
/// refinement's losses all evaluate on them.
///
/// A class because the sessions hold the FP32 activation caches of every batch, which are large and must not be
/// copied when a stage's measurer and the pipeline both use them.
public final class CalibrationWorkspace {
    /// All calibration samples, in batches.
    public var session: CalibrationSession
    /// The samples activation statistics are taken from.
    public var probe: CalibrationSession

    /// Sessions over `calibration` in batches of `batchSize`, and over its first samples for activation statistics.
    public init(graph: Graph, calibration: LabelledData, batchSize: Int, reusesActivations: Bool = true) throws {
        session = try CalibrationSession(graph: graph, inputs: calibration.inputs, batchSize: batchSize)
        probe = try CalibrationSession(graph: graph, inputs: CalibrationSession.probeInputs(session), batchSize: batchSize)
        session.reusesActivations = reusesActivations
        probe.reusesActivations = reusesActivations
    }
}
