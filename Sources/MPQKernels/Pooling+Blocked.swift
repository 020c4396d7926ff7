import CVectorLanes

extension Pool2D {
    /// Max pooling on `ChannelBlocks`' blocked layout (`[N][C / b][H][W][b]`): each window tap is `b` channels'
    /// values side by side, taken eight at a time, in the taps' order of `max` (rows, then columns), so the results,
    /// NaN included, are `max`'s. `blocks` is `batch × channels / b`; on the calling thread.
    public static func maxBlocked(_ window: Window2D, blocks: Int, input: UnsafePointer<Float>,
                                  output: UnsafeMutablePointer<Float>) {
        let wh = window.height, ww = window.width, b = ChannelBlocks.size
        let inBlock = wh.input &* ww.input &* b, outBlock = wh.output &* ww.output &* b
        // The taps inside the input along each axis, per output position: a contiguous range of kernel offsets.
        let rows = (0..<wh.output).map { wh.taps(at: $0) }, columns = (0..<ww.output).map { ww.taps(at: $0) }
        for block in 0..<blocks {
            let src = input + block &* inBlock, dst = output + block &* outBlock
            for oh in 0..<wh.output {
                let (top, kh0, kh1) = rows[oh]
                for ow in 0..<ww.output {
                    let (left, kw0, kw1) = columns[ow]
                    let d = dst + (oh &* ww.output &+ ow) &* b
                    var lane = 0
                    while lane < b {
                        var m = SIMD8<Float>(repeating: -.infinity)
                        for kh in kh0..<kh1 {
                            let line = src + ((top &+ kh &* wh.dilation) &* ww.input &* b &+ lane)
                            for kw in kw0..<kw1 { m = mpq_max8(load8(line + (left &+ kw &* ww.dilation) &* b), m) }
                        }
                        store8(m, d + lane)
                        lane &+= 8
                    }
                }
            }
        }
    }
}
