import MPQKernels
import MPQQuantization

/// The fake-quantization pass alone, per value, on a buffer that stays in cache and on one that does not, beside a
/// plain in-place scaling pass (the memory floor): what a quantized evaluation adds per activation value.
func printFakeQuantizationPass(repeats: Int) throws {
    let quantizer = FakeQuantizer(try QuantizationGrid(bits: 8).parameters(alpha: 2.2))
    for count in [1 << 18, 1 << 24] {
        var values = (0..<count).map { Float(($0 &* 7919) % 4001 - 2000) * 0.00123 }
        let fake = try median(repeats) { try quantizer.fakeQuantizeInPlace(&values) }
        let scaling = try median(repeats) {
            values.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] *= 1.0000001 } }
        }
        print(String(format: "  fake quantization, %8d values   %.3f ns per value (in-place scaling %.3f)", count,
                     fake * 1e9 / Double(count), scaling * 1e9 / Double(count)))
    }
}
