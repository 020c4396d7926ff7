import Foundation
import MPQGraph
import Testing
import ZIPFoundation
@testable import MPQData

/// `.npz` members read only as far as `maxSamples`: the same values as a whole read, cut.
@Suite struct NumpyArchivePrefixTests {
    /// 1000 samples of 64 floats (256 KB, several of ZIPFoundation's 16 KB chunks), value = index / 7.
    static let samples = 1000, width = 64

    static func archive(_ method: CompressionMethod) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npz-prefix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("data.npz")
        let images = Tensor(shape: [samples, width], floats: (0..<(samples * width)).map { Float($0) / 7 })
        let labels = Tensor(shape: [samples], int64s: (0..<samples).map { Int64($0 % 10) })
        let archive = try Archive(url: url, accessMode: .create)
        for (name, tensor) in [("images", images), ("labels", labels)] {
            let data = NPYWriter.data(for: tensor)
            try archive.addEntry(with: "\(name).npy", type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: method) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return url
    }

    @Test(arguments: [CompressionMethod.none, .deflate], [1, 3, 257, 999, 1000, 5000])
    func prefixEqualsTheWholeArrayCut(method: CompressionMethod, maxSamples: Int) throws {
        let npz = try NumpyArchive(contentsOf: Self.archive(method))
        let whole = try npz.array(named: "images")
        let cut = try npz.array(named: "images", maxSamples: maxSamples)
        let kept = min(maxSamples, Self.samples)
        #expect(cut.shape == [kept, Self.width])
        #expect(cut.tensor.floats == whole.tensor.floats.map { Array($0.prefix(kept * Self.width)) })
        #expect(cut.fileSampleCount == (maxSamples < Self.samples ? Self.samples : nil))
        let labels = try npz.array(named: "labels", maxSamples: maxSamples)
        #expect(labels.tensor.int64s == (0..<kept).map { Int64($0 % 10) })
    }

    /// A member whose header claims more samples than the archive declares for it is still refused.
    @Test func declaredSizeIsCheckedAgainstTheHeader() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npz-prefix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("short.npz")
        var data = NPYWriter.data(for: Tensor(shape: [100, 4], floats: [Float](repeating: 1, count: 400)))
        data.removeLast(16 * 10)  // 90 samples' bytes under a header of 100
        let archive = try Archive(url: url, accessMode: .create)
        try archive.addEntry(with: "x.npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { p, n in
            data.subdata(in: Int(p)..<Int(p) + n)
        }
        let npz = try NumpyArchive(contentsOf: url)
        let error = #expect(throws: DataError.self) { _ = try npz.array(named: "x", maxSamples: 10) }
        #expect(error == .truncatedData(path: "\(url.path)[x]", expected: 1600, found: 1440))
    }
}
