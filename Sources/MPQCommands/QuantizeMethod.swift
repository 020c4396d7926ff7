import ArgumentParser
import MPQLAPQ

/// `mpq quantize --method`: a step initialization alone, or LAPQ (an initialization, then the joint search).
enum QuantizeMethod: String, CaseIterable, ExpressibleByArgument {
    case minMax = "minmax"
    case mmse
    case bestP = "lapq-layerwise"
    case quadratic = "lapq-quadratic"
    case lapq

    /// The step initialization this method stops after, or nil for LAPQ's joint search.
    var initialization: StepSearch.Initialization? { StepSearch.Initialization(rawValue: rawValue) }
}
