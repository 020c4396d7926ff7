import Foundation
import MPQKernels

/// `mpq-benchmark --conv N,C,H,W,OC,KH,KW,S,PAD,G[;...]`: time of one `Conv2D.forward` (bias and
/// a fused ReLU, as in the executor) per shape, best of several repetitions, at `threads` threads.
/// The same argument format as the oneDNN comparison program in docs/benchmarks.md. `MPQ_CONV_ACTIVATION=clip`
/// fuses a Clip to [0, 6] (ReLU6, as MobileNets and EfficientNet-Lite) instead.
func timeConv(_ specs: [[Int]], threads: Int) {
    let activation: Activation = ProcessInfo.processInfo.environment["MPQ_CONV_ACTIVATION"] == "clip" ? .clip(min: 0, max: 6) : .relu
    var rng = SystemRandomNumberGenerator()
    for v in specs where v.count == 10 {
        let (n, c, h, w, oc, kh, kw, s, p, g) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])
        guard let window = Window2D(inputHeight: h, inputWidth: w, kernel: (kh, kw), stride: (s, s), pads: (p, p, p, p)) else { continue }
        let shape = Conv2DShape(batch: n, inChannels: c, outChannels: oc, group: g, window: window)
        let x = (0..<shape.inputCount).map { _ in Float.random(in: -1...1, using: &rng) }
        let wt = (0..<shape.weightCount).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<oc).map { _ in Float.random(in: -1...1, using: &rng) }
        if ProcessInfo.processInfo.environment["MPQ_CONV_BLOCKED"] == "1" {
            timeBlocked(shape, x, wt, b, activation: activation, threads: threads, spec: v)
            continue
        }
        var y = [Float](repeating: 0, count: shape.outputCount)
        var best = Double.infinity
        let reps = max(3, min(50, Int(2e9 / Double(max(shape.flops, 1)))))
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            Conv2D.forward(shape, input: x, weights: wt, bias: b, output: &y, activation: activation, threads: threads)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        print(String(format: "conv %@: %8.3f ms %6.1f GFLOP/s", v.map(String.init).joined(separator: ",") as NSString,
                     best * 1e3, Double(shape.flops) / best / 1e9))
    }
}

/// With `MPQ_CONV_BLOCKED=1`: the convolution on channel-blocked activations, oneDNN's direct kernels against
/// Winograd F(2×2, 3×3) where it applies, side by side, with the largest difference between their outputs.
func timeBlocked(_ shape: Conv2DShape, _ x: [Float], _ w: [Float], _ bias: [Float], activation: Activation, threads: Int,
                 spec: [Int]) {
    guard OneDNNConvolution.handles(shape, layout: ConvolutionLayout(blockedInput: true, blockedOutput: true)) else { return }
    let layout = ConvolutionLayout(blockedInput: true, blockedOutput: true)
    let reps = max(3, min(50, Int(2e9 / Double(max(shape.flops, 1)))))
    func best(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }
    let cache = ConvolutionWeightCache()
    var direct = [Float](repeating: 0, count: shape.outputCount)
    let tDirect = best {
        Conv2D.forward(shape, input: x, weights: w, bias: bias, output: &direct, activation: activation, threads: threads,
                       cachedWeights: (w, cache), layout: layout, winograd: false)
    }
    var line = String(format: "conv %@ blocked: oneDNN %8.3f ms %6.1f GFLOP/s", spec.map(String.init).joined(separator: ",") as NSString,
                      tDirect * 1e3, Double(shape.flops) / tDirect / 1e9)
    if let wino = WinogradConvolution(shape, blockSize: ChannelBlocks.size, activation: activation) {
        let u = w.withUnsafeBufferPointer { wino.preparedWeights($0.baseAddress!) }
        var y = [Float](repeating: 0, count: shape.outputCount)
        let t = best { wino.forward(input: x, prepared: u, bias: bias, output: &y, threads: threads) }
        let diff = zip(y, direct).map { abs($0 - $1) }.max() ?? 0
        line += String(format: " | Winograd %8.3f ms (%.2f×), max |diff| %.2g", t * 1e3, tDirect / t, diff)
    }
    print(line)
}
