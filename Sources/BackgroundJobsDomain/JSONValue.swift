/// Any JSON value, for payload parts a handler passes on without knowing their shape (a webhook's
/// body, a template's data).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            // Whole numbers stay whole ("3", not "3.0"), as they came in.
            if value.rounded() == value, abs(value) < 9.0e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue {
    /// The value as plain Swift values (`String`, `Double` or `Int`, `Bool`, arrays, dictionaries), for
    /// APIs that take those, such as template renderers; `null` becomes `nil`.
    public var plain: (any Sendable)? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .number(let value): value.rounded() == value && abs(value) < 9.0e15 ? Int(value) : value
        case .string(let value): value
        case .array(let values): values.map { $0.plain }
        case .object(let members): members.mapValues { $0.plain }
        }
    }
}
