import Foundation
import Testing
@testable import MPQData

@Suite struct NumpyErrorTests {
    private func error(_ name: String) -> DataError? {
        Fixture.dataError { _ = try Fixture.read(name) }
    }

    @Test func fileNotFound() {
        let e = error("no_such_file.npy")
        #expect(e == .fileNotFound(path: Fixture.path("no_such_file.npy")))
        #expect(e?.description == "\(Fixture.path("no_such_file.npy")): file not found. Check the path (relative paths are resolved against the current directory).")
    }

    @Test func directoryIsNotAFile() {
        let e = Fixture.dataError { _ = try NumpyArray(contentsOf: Fixture.directory) }
        #expect(e == .unreadableFile(path: Fixture.directory.path, reason: "it is a directory"))
    }

    @Test func badMagic() {
        let e = error("bad_magic.npy")
        #expect(e == .notNpyFile(path: Fixture.path("bad_magic.npy")))
        #expect(e?.description.contains("bad_magic.npy: not a NumPy .npy file") == true)
        #expect(e?.description.contains("\\x93NUMPY") == true)
        #expect(e?.description.contains("numpy.save") == true)
    }

    @Test func unsupportedVersion() {
        let e = error("bad_version.npy")
        #expect(e == .unsupportedVersion(path: Fixture.path("bad_version.npy"), major: 9, minor: 0))
        #expect(e?.description.contains("unsupported .npy format version 9.0; mpq reads versions 1.0, 2.0 and 3.0") == true)
    }

    @Test func truncatedData() {
        let e = error("truncated.npy")
        #expect(e == .truncatedData(path: Fixture.path("truncated.npy"), expected: 48, found: 38))
        #expect(e?.description == "\(Fixture.path("truncated.npy")): truncated data: expected 48 bytes (from the header's shape and dtype), found 38. The file was cut short; re-create it with numpy.save.")
    }

    @Test func trailingData() {
        let e = error("trailing.npy")
        #expect(e == .trailingData(path: Fixture.path("trailing.npy"), expected: 48, found: 52))
        #expect(e?.description.contains("expected 48 bytes") == true)
        #expect(e?.description.contains("found 52") == true)
    }

    @Test func unsupportedDTypes() {
        let e = error("complex.npy")
        #expect(e == .unsupportedDType(path: Fixture.path("complex.npy"), dtype: "<c8"))
        let text = e?.description ?? ""
        #expect(text.contains("complex.npy: unsupported dtype <c8"))
        for supported in ["<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "|b1"] {
            #expect(text.contains(supported))
        }
        #expect(text.contains("astype(numpy.float32)"))

        guard case .unsupportedDType(_, let dtype)? = error("structured.npy") else {
            Issue.record("structured dtype accepted")
            return
        }
        #expect(dtype == "(('a', '<f4'), ('b', '<i8'))")
    }

    @Test func malformedHeaders() {
        guard case .badHeader(_, let missing)? = error("missing_shape.npy") else { Issue.record("missing shape accepted"); return }
        #expect(missing.hasPrefix("key 'shape' is missing from header \"{'descr': '<f4', 'fortran_order': False, }\""))

        guard case .badHeader(_, let garbled)? = error("garbled_header.npy") else { Issue.record("garbled header accepted"); return }
        #expect(garbled.hasPrefix("expected ',' or ')' at offset"))
        #expect(garbled.contains("found '}'"))

        guard case .badHeader(_, let negative)? = error("negative_dim.npy") else { Issue.record("negative dimension accepted"); return }
        #expect(negative == "'shape' must hold non-negative integers, found (-1,)")

        guard case .badHeader(_, let short)? = error("short_header.npy") else { Issue.record("short header accepted"); return }
        #expect(short == "the file ends inside the header length field (9 bytes in all)")

        guard case .badHeader(_, let overflow)? = error("header_overflow.npy") else { Issue.record("overlong header accepted"); return }
        #expect(overflow == "the header claims 5000 bytes but only 30 follow")

        let text = error("missing_shape.npy")?.description ?? ""
        #expect(text.hasPrefix("\(Fixture.path("missing_shape.npy")): malformed .npy header: "))
        #expect(text.hasSuffix("Re-save the array with numpy.save(path, array)."))
    }

    @Test func headerFieldTypes() {
        func reason(_ header: String) -> String? {
            do {
                _ = try NumpyHeader.parseDictionary(header, path: "h")
                return nil
            } catch DataError.badHeader(_, let r) {
                return r
            } catch {
                return "\(error)"
            }
        }
        #expect(reason("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}")?.hasPrefix("'fortran_order' must be True or False") == true)
        #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': 3}")?.hasPrefix("'shape' must be a tuple of integers") == true)
        #expect(reason("['descr']")?.hasPrefix("expected a dictionary") == true)
        #expect(reason("{'descr': '<f4', 'descr': '<f8'}") == "key 'descr' appears twice in header \"{'descr': '<f4', 'descr': '<f8'}\"")
        #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x")?.hasPrefix("unexpected text after the dictionary") == true)
        #expect(reason("{'descr': '<f4") == "unterminated string in header \"{'descr': '<f4\"")
        #expect(reason("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") == nil)
    }

    @Test func pythonLiteralParser() throws {
        #expect(try PythonLiteral.parse("(3,)") == .sequence([.integer(3)]))
        #expect(try PythonLiteral.parse("()") == .sequence([]))
        #expect(try PythonLiteral.parse(" [ 1 , -2 ,3L ] ") == .sequence([.integer(1), .integer(-2), .integer(3)]))
        #expect(try PythonLiteral.parse("{'a': True, \"b\": None, 'c': 'x\\'y'}")
                == .dict([("a", .bool(true)), ("b", .none), ("c", .string("x'y"))]))
        #expect(throws: PythonLiteral.ParseError.self) { try PythonLiteral.parse("Truex") }
        #expect(throws: PythonLiteral.ParseError.self) { try PythonLiteral.parse("(1 2)") }
        #expect(throws: PythonLiteral.ParseError.self) { try PythonLiteral.parse(String(repeating: "(", count: 100)) }
    }

    @Test func dtypeParsing() {
        #expect(NumpyDType(descr: "<f4")?.kind == .float)
        #expect(NumpyDType(descr: "=i8")?.size == 8)
        #expect(NumpyDType(descr: ">u2")?.isBigEndian == true)
        #expect(NumpyDType(descr: "<u8") == nil)
        #expect(NumpyDType(descr: "<f16") == nil)
        #expect(NumpyDType(descr: "|O") == nil)
        #expect(NumpyDType(descr: "<U5") == nil)
        #expect(NumpyDType(descr: "") == nil)
    }
}
