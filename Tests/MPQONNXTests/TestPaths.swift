import Foundation

/// Locations of committed fixtures and examples, found from this file's path.
enum TestPaths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) -> URL {
        repository.appendingPathComponent("examples").appendingPathComponent(name)
    }
}
