import Foundation

extension TradeOffCurve {
    /// Pretty-printed JSON with sorted keys; missing values are left out; NaN and infinities are written as the
    /// strings "NaN", "Infinity" and "-Infinity" (which `init(json:)` reads back).
    public func jsonData() throws -> Data {
        try Self.encoder().encode(self)
    }

    /// `jsonData()` as UTF-8 text (ends without a newline).
    public func json() throws -> String {
        String(decoding: try jsonData(), as: UTF8.self)
    }

    /// Decodes what `jsonData()` wrote.
    public init(json data: Data) throws {
        self = try Self.decoder().decode(TradeOffCurve.self, from: data)
    }

    /// Decodes what `json()` wrote.
    public init(json text: String) throws {
        try self.init(json: Data(text.utf8))
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity",
                                                                       negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity",
                                                                         negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }
}
