import Foundation

/// A manual override: groups matching `pattern` take `candidate`, and the search decides the rest.
///
/// Patterns: `op:TYPE` matches groups with a layer of that op type (`op:Gemm`, `op:DepthwiseConv`);
/// `/REGEX/` or `re:REGEX` a regular expression searched in group and layer names; anything else a glob
/// (`*`, `?`) matched against the whole group name or any layer name.
public struct Pin: Sendable, Hashable, Codable, CustomStringConvertible {
    public var pattern: String
    public var candidate: String

    public init(pattern: String, candidate: String) {
        self.pattern = pattern
        self.candidate = candidate
    }

    /// Parses `PATTERN=CANDIDATE` (split at the last `=`, so a regular expression may contain one).
    public init(parsing text: String) throws {
        guard let eq = text.lastIndex(of: "=") else {
            throw PinError.malformed(text, reason: "expected PATTERN=CANDIDATE, e.g. '/_fc/*=W8A16' or 'op:Gemm=W8A8'")
        }
        let pattern = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let candidate = String(text[text.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        guard !pattern.isEmpty else { throw PinError.malformed(text, reason: "the pattern before '=' is empty") }
        guard !candidate.isEmpty else { throw PinError.malformed(text, reason: "the candidate after '=' is empty") }
        self.init(pattern: pattern, candidate: candidate)
        _ = try matcher()
    }

    public var description: String { "\(pattern)=\(candidate)" }

    /// Whether the pin applies to `group`.
    public func matches(_ group: PlanningGroup) throws -> Bool {
        try matcher()(group)
    }

    private func matcher() throws -> (PlanningGroup) -> Bool {
        if pattern.hasPrefix("op:") {
            let type = String(pattern.dropFirst(3))
            return { $0.layers.contains { $0.opType == type } }
        }
        let regex: NSRegularExpression
        if let body = Self.regexBody(pattern) {
            do { regex = try NSRegularExpression(pattern: body) } catch {
                throw PinError.malformed(description, reason: "'\(body)' is not a valid regular expression")
            }
        } else {
            regex = try NSRegularExpression(pattern: "^" + Self.globToRegex(pattern) + "$")
        }
        return { group in
            ([group.name] + group.layers.map(\.name)).contains { name in
                regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
            }
        }
    }

    private static func regexBody(_ pattern: String) -> String? {
        if pattern.hasPrefix("re:") { return String(pattern.dropFirst(3)) }
        if pattern.count >= 2, pattern.hasPrefix("/"), pattern.hasSuffix("/"), pattern.dropFirst().contains(where: { $0 != "/" }) {
            // `/…/` is a regex only when it does not look like an ONNX node path ending in '/'.
            let body = pattern.dropFirst().dropLast()
            if body.contains(where: { "^$.*+?()[]{}|\\".contains($0) }) { return String(body) }
        }
        return nil
    }

    private static func globToRegex(_ glob: String) -> String {
        glob.map { ch -> String in
            switch ch {
            case "*": return ".*"
            case "?": return "."
            default: return NSRegularExpression.escapedPattern(for: String(ch))
            }
        }.joined()
    }
}

/// Why pins cannot be applied; every message names the pin.
public enum PinError: Error, Equatable, CustomStringConvertible {
    case malformed(String, reason: String)
    case matchesNothing(Pin, examples: [String])
    case unknownCandidate(Pin, available: [String])
    case notAllowed(Pin, group: String, allowed: [String])
    case conflict(Pin, Pin, group: String)
    case infeasible(pins: [Pin], reason: String)

    public var description: String {
        switch self {
        case let .malformed(text, reason):
            return "pin '\(text)': \(reason)"
        case let .matchesNothing(pin, examples):
            return "pin '\(pin)' matches no group; group names look like \(examples.map { "'\($0)'" }.joined(separator: ", ")) (a glob over the whole name such as '*features.0*', re:REGEX, or op:TYPE)"
        case let .unknownCandidate(pin, available):
            return "pin '\(pin)': the profile has no candidate '\(pin.candidate)'; it has \(available.joined(separator: ", "))"
        case let .notAllowed(pin, group, allowed):
            return "pin '\(pin)': group '\(group)' cannot take \(pin.candidate) (allowed: \(allowed.isEmpty ? "none, it stays float" : allowed.joined(separator: ", "))); narrow the pattern"
        case let .conflict(a, b, group):
            return "pins '\(a)' and '\(b)' both apply to group '\(group)' (or a group tied to it) with different candidates; make the patterns disjoint"
        case let .infeasible(pins, reason):
            return "\(reason) with the pins \(pins.map { "'\($0)'" }.joined(separator: ", ")); relax the budget or the pins"
        }
    }
}
