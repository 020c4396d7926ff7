extension Node {
    /// An int attribute, the default when absent, or an error when it has another kind.
    public func int(_ key: String, default value: Int? = nil) throws -> Int {
        switch attributes[key] {
        case .int(let v)?: return v
        case nil:
            if let value { return value }
            throw GraphError.missingAttribute(node: displayName, opType: opType, attribute: key)
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "int", found: other.kindName)
        }
    }

    /// A float attribute, the default when absent.
    public func float(_ key: String, default value: Float? = nil) throws -> Float {
        switch attributes[key] {
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        case nil:
            if let value { return value }
            throw GraphError.missingAttribute(node: displayName, opType: opType, attribute: key)
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "float", found: other.kindName)
        }
    }

    /// A string attribute, the default when absent.
    public func string(_ key: String, default value: String? = nil) throws -> String {
        switch attributes[key] {
        case .string(let v)?: return v
        case nil:
            if let value { return value }
            throw GraphError.missingAttribute(node: displayName, opType: opType, attribute: key)
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "string", found: other.kindName)
        }
    }

    /// An ints attribute, or nil when absent.
    public func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case .ints(let v)?: return v
        case .int(let v)?: return [v]
        case nil: return nil
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "ints", found: other.kindName)
        }
    }

    /// A floats attribute, or nil when absent.
    public func floats(_ key: String) throws -> [Float]? {
        switch attributes[key] {
        case .floats(let v)?: return v
        case nil: return nil
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "floats", found: other.kindName)
        }
    }

    /// A tensor attribute, or nil when absent.
    public func tensor(_ key: String) throws -> Tensor? {
        switch attributes[key] {
        case .tensor(let v)?: return v
        case nil: return nil
        case let other?:
            throw GraphError.attributeKind(node: displayName, attribute: key, expected: "tensor", found: other.kindName)
        }
    }
}
