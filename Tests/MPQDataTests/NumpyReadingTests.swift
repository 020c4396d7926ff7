import Foundation
import MPQGraph
import Testing
@testable import MPQData

@Suite struct NumpyReadingTests {
    static let grid: [Float] = (0..<12).map { Float($0) * 0.5 - 1 }

    @Test(arguments: [("f4_v1.npy", UInt8(1)), ("f4_v2.npy", 2), ("f4_v3.npy", 3)])
    func headerVersions(name: String, major: UInt8) throws {
        let a = try Fixture.read(name)
        #expect(a.shape == [3, 4])
        #expect(a.tensor.floats == Self.grid)
        #expect(a.dtype.descr == "<f4")
        #expect(a.source == Fixture.path(name))
        let bytes = try Data(contentsOf: Fixture.url(name))
        #expect(bytes[6] == major)
    }

    @Test func float64IsConvertedToFloat32() throws {
        let a = try Fixture.read("f8.npy")
        #expect(a.dtype.descr == "<f8")
        #expect(a.shape == [4])
        #expect(a.tensor.floats == [1.5, -2.25, Float(0.1 as Double), Float(1e-3 as Double)])
    }

    @Test func float16IsConvertedExactly() throws {
        let a = try Fixture.read("f2.npy")
        #expect(a.dtype.descr == "<f2")
        let expected: [Float] = [0.5, -1, 65504, Float(sign: .plus, exponent: -14, significand: 1),
                                 Float(sign: .plus, exponent: -24, significand: 1), .infinity]
        #expect(a.tensor.floats == expected)
        #expect(NumpyArray.halfToFloat(0x7E00).isNaN)
        #expect(NumpyArray.halfToFloat(0x8000) == 0 && NumpyArray.halfToFloat(0x8000).sign == .minus)
        #expect(NumpyArray.halfToFloat(0xC000) == -2)
    }

    @Test func integerTypesBecomeInt64() throws {
        let i8 = try Fixture.read("i8.npy")
        #expect(i8.shape == [2, 3])
        #expect(i8.tensor.int64s == [-3, 0, 7, 1 << 40, -(1 << 40), 1])
        #expect(try Fixture.read("i4.npy").tensor.int64s == [-2_147_483_648, 0, 2_147_483_647])
        #expect(try Fixture.read("i2.npy").tensor.int64s == [-32768, 1, 32767])
        #expect(try Fixture.read("i1.npy").tensor.int64s == [-128, 0, 127])
        #expect(try Fixture.read("u1.npy").tensor.int64s == [0, 128, 255])
        #expect(try Fixture.read("u2.npy").tensor.int64s == [0, 65535])
        #expect(try Fixture.read("u4.npy").tensor.int64s == [0, 4_294_967_295])
        #expect(try Fixture.read("i4.npy").dtype.descr == "<i4")
        #expect(try Fixture.read("u1.npy").dtype.descr == "|u1")
    }

    @Test func booleans() throws {
        let a = try Fixture.read("b1.npy")
        #expect(a.dtype.descr == "|b1")
        #expect(a.shape == [2, 2])
        #expect(a.tensor.bools == [true, false, false, true])
    }

    @Test func fortranOrderIsTransposedToCOrder() throws {
        let f = try Fixture.read("fortran_f4.npy")
        #expect(f.wasFortranOrder)
        #expect(f.shape == [2, 3, 4])
        #expect(f.tensor.floats == (0..<24).map(Float.init))
        let i = try Fixture.read("fortran_i8.npy")
        #expect(i.shape == [2, 3])
        #expect(i.tensor.int64s == [0, 1, 2, 3, 4, 5])
        #expect(!(try Fixture.read("f4_v1.npy")).wasFortranOrder)
    }

    @Test func fortranToCPermutation() {
        // Column-major [[1, 2, 3], [4, 5, 6]] is stored 1 4 2 5 3 6.
        #expect(NumpyArray.fortranToC([1, 4, 2, 5, 3, 6], shape: [2, 3]) == [1, 2, 3, 4, 5, 6])
        #expect(NumpyArray.fortranToC([1, 2, 3], shape: [3, 1]) == [1, 2, 3])
    }

    @Test func scalarAndEmptyArrays() throws {
        let s = try Fixture.read("scalar_f4.npy")
        #expect(s.shape == [])
        #expect(s.tensor.floats == [3.5])
        let e = try Fixture.read("empty_f4.npy")
        #expect(e.shape == [0, 3])
        #expect(e.tensor.floats == [])
    }

    @Test func bigEndianIsByteSwapped() throws {
        let f = try Fixture.read("be_f4.npy")
        #expect(f.dtype.descr == ">f4")
        #expect(f.dtype.isBigEndian)
        #expect(f.tensor.floats == [1, -2.5, 3.25])
        #expect(try Fixture.read("be_i8.npy").tensor.int64s == [1, -2, 1 << 40])
        #expect(try Fixture.read("be_f8.npy").tensor.floats == [0.5, -4])
    }

    @Test func unusualButValidHeader() throws {
        // Keys reordered, double quotes, a list shape, no spaces, Fortran order, int32.
        let a = try Fixture.read("odd_header.npy")
        #expect(a.shape == [2, 1])
        #expect(a.tensor.int64s == [7, -7])
    }

    @Test func inMemoryVersion2Header() throws {
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"
        var text = Array(header.utf8)
        while (12 + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
        let n = UInt32(text.count)
        bytes += [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), 0, 0] + text
        bytes += [5, 0, 0, 0, 0, 0, 0, 0] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        let a = try NumpyArray(npyData: Data(bytes), source: "memory")
        #expect(a.tensor.int64s == [5, -1])
        #expect(a.source == "memory")
    }
}

@Suite struct NumpyArchiveTests {
    static let images: [Float] = (0..<(5 * 64)).map { Float($0) / 64 }

    @Test(arguments: ["stored.npz", "compressed.npz"])
    func readsMembers(name: String) throws {
        let archive = try NumpyArchive(contentsOf: Fixture.url(name))
        #expect(archive.names == ["images", "labels"])
        let images = try archive.array(named: "images")
        #expect(images.shape == [5, 1, 8, 8])
        #expect(images.tensor.floats == Self.images)
        #expect(images.source == Fixture.path(name) + "[images]")
        let labels = try archive.array(named: "labels.npy")
        #expect(labels.tensor.int64s == [0, 1, 2, 3, 9])
        let all = try archive.arrays()
        #expect(all.keys.sorted() == ["images", "labels"])
        #expect(all["labels"]?.dtype.descr == "<i8")
    }

    @Test func missingMemberListsTheOthers() throws {
        let archive = try NumpyArchive(contentsOf: Fixture.url("stored.npz"))
        let error = Fixture.dataError { _ = try archive.array(named: "inputs") }
        #expect(error == .npzMemberMissing(path: Fixture.path("stored.npz"), member: "inputs", available: ["images", "labels"]))
        #expect(error?.description == "\(Fixture.path("stored.npz")): no array named 'inputs' in the archive; it holds: images, labels.")
    }

    @Test func notAZipArchive() throws {
        let error = Fixture.dataError { _ = try NumpyArchive(contentsOf: Fixture.url("not_a_zip.npz")) }
        guard case .notNpzFile(let path, _)? = error else {
            Issue.record("expected notNpzFile, got \(String(describing: error))")
            return
        }
        #expect(path == Fixture.path("not_a_zip.npz"))
        #expect(error!.description.contains("numpy.savez"))
        #expect(Fixture.dataError { _ = try NumpyArchive(contentsOf: Fixture.url("absent.npz")) } == .fileNotFound(path: Fixture.path("absent.npz")))
    }
}
