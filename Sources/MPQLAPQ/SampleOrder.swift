import MPQExecutor
import MPQGraph

/// The order a calibration session's batches hold the samples in, when it is not the data's.
struct SampleOrder: Sendable {
    /// The data index of each session position.
    let indices: [Int]
    /// The session position of each data index.
    let positions: [Int]

    init(_ indices: [Int]) {
        self.indices = indices
        var positions = [Int](repeating: 0, count: indices.count)
        for (position, index) in indices.enumerated() { positions[index] = position }
        self.positions = positions
    }

    /// Rows joined in session order put back in data order (a value without one row per sample is returned as is).
    func dataOrder(_ joined: Tensor) -> Tensor {
        guard joined.shape.first == indices.count else { return joined }
        return joined.rows(positions)
    }
}
