import Foundation
@testable import MPQData

/// Fixtures written by scripts/make_npy_fixtures.py.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func path(_ name: String) -> String { url(name).path }
    static func read(_ name: String) throws -> NumpyArray { try NumpyArray(contentsOf: url(name)) }

    /// The `DataError` thrown by `body`, or nil if it succeeded or threw something else.
    static func dataError(_ body: () throws -> Void) -> DataError? {
        do {
            try body()
            return nil
        } catch let e as DataError {
            return e
        } catch {
            return nil
        }
    }
}
