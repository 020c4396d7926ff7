/// A value of the small subset of Python literal syntax that `.npy` headers use:
/// a dict of string keys to strings, booleans, integers, `None` and tuples or lists.
enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case none
    case sequence([PythonLiteral])
    case dict([(key: String, value: PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none): return true
        case (.sequence(let x), .sequence(let y)): return x == y
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses one literal filling the whole text (surrounding white space allowed).
    /// Throws a human-readable reason string wrapped in `PythonLiteral.ParseError`.
    static func parse(_ text: String) throws -> PythonLiteral {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.atEnd else { throw ParseError(reason: "unexpected text after the dictionary at offset \(parser.position)") }
        return value
    }

    struct ParseError: Error {
        var reason: String
    }

    private struct Parser {
        var scalars: [Unicode.Scalar]
        var position = 0

        var atEnd: Bool { position >= scalars.count }

        mutating func skipSpace() {
            while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
        }

        func fail(_ what: String) -> ParseError {
            if atEnd { return ParseError(reason: "\(what), but the header ends") }
            return ParseError(reason: "\(what) at offset \(position), found '\(Character(scalars[position]))'")
        }

        mutating func value(depth: Int) throws -> PythonLiteral {
            guard depth < 32 else { throw ParseError(reason: "nesting too deep") }
            skipSpace()
            guard !atEnd else { throw fail("expected a value") }
            let c = scalars[position]
            switch c {
            case "{": return try dict(depth: depth)
            case "(": return try sequence(close: ")", depth: depth)
            case "[": return try sequence(close: "]", depth: depth)
            case "'", "\"": return .string(try string())
            case "-", "+", "0"..."9": return .integer(try integer())
            default:
                if matchWord("True") { return .bool(true) }
                if matchWord("False") { return .bool(false) }
                if matchWord("None") { return .none }
                throw fail("expected a value")
            }
        }

        mutating func matchWord(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard position + w.count <= scalars.count, Array(scalars[position..<position + w.count]) == w else { return false }
            let end = position + w.count
            if end < scalars.count, scalars[end].properties.isAlphabetic || scalars[end] == "_" || ("0"..."9").contains(scalars[end]) { return false }
            position = end
            return true
        }

        mutating func string() throws -> String {
            let quote = scalars[position]
            position += 1
            var out = String.UnicodeScalarView()
            while true {
                guard !atEnd else { throw ParseError(reason: "unterminated string") }
                let c = scalars[position]
                position += 1
                if c == quote { return String(out) }
                if c == "\\" {
                    guard !atEnd else { throw ParseError(reason: "unterminated string") }
                    let e = scalars[position]
                    position += 1
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    default: out.append(e)
                    }
                } else {
                    out.append(c)
                }
            }
        }

        mutating func integer() throws -> Int {
            let start = position
            if scalars[position] == "-" || scalars[position] == "+" { position += 1 }
            let digitsStart = position
            while position < scalars.count, ("0"..."9").contains(scalars[position]) { position += 1 }
            // Python 2 era files may write long integers as `3L`.
            let digits = String(String.UnicodeScalarView(scalars[start..<position]))
            if position < scalars.count, scalars[position] == "L" { position += 1 }
            guard position > digitsStart, let n = Int(digits) else {
                position = start
                throw fail("expected an integer")
            }
            return n
        }

        mutating func sequence(close: Unicode.Scalar, depth: Int) throws -> PythonLiteral {
            position += 1
            var items: [PythonLiteral] = []
            while true {
                skipSpace()
                guard !atEnd else { throw fail("expected '\(close)'") }
                if scalars[position] == close { position += 1; return .sequence(items) }
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard !atEnd else { throw fail("expected ',' or '\(close)'") }
                if scalars[position] == "," { position += 1; continue }
                if scalars[position] == close { position += 1; return .sequence(items) }
                throw fail("expected ',' or '\(close)'")
            }
        }

        mutating func dict(depth: Int) throws -> PythonLiteral {
            position += 1
            var entries: [(key: String, value: PythonLiteral)] = []
            while true {
                skipSpace()
                guard !atEnd else { throw fail("expected '}'") }
                if scalars[position] == "}" { position += 1; return .dict(entries) }
                guard scalars[position] == "'" || scalars[position] == "\"" else { throw fail("expected a quoted key") }
                let key = try string()
                skipSpace()
                guard !atEnd, scalars[position] == ":" else { throw fail("expected ':' after key '\(key)'") }
                position += 1
                let v = try value(depth: depth + 1)
                if entries.contains(where: { $0.key == key }) { throw ParseError(reason: "key '\(key)' appears twice") }
                entries.append((key, v))
                skipSpace()
                guard !atEnd else { throw fail("expected ',' or '}'") }
                if scalars[position] == "," { position += 1; continue }
                if scalars[position] == "}" { position += 1; return .dict(entries) }
                throw fail("expected ',' or '}'")
            }
        }
    }
}
