extension RedisConfiguration {
    /// A configuration from a URL: `redis://[[user]:password@]host[:port][/db]` or `unix:///path/to/socket`
    /// (a `?db=N` query selects the database of a socket).
    ///
    /// Percent-escapes in the user and password are decoded. Every other setting keeps its default and can
    /// be changed afterwards.
    public init(url: String) throws(RedisError) {
        func fail(_ reason: String) -> RedisError {
            // The URL may hold a password: name the part that is wrong, never echo the URL.
            RedisError(.invalidConfiguration, "the Redis URL is not valid: \(reason)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else { throw fail("it has no scheme (redis:// or unix://)") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]

        switch scheme {
        case "unix":
            var path = Substring(rest)
            var database = 0
            if let query = path.firstIndex(of: "?") {
                database = try Self.database(fromQuery: path[path.index(after: query)...], fail: fail)
                path = path[..<query]
            }
            guard path.hasPrefix("/") else { throw fail("a unix socket path must be absolute") }
            try self.init(endpoint: .unixSocket(path: String(path)), database: database)
        case "redis":
            var authority = rest
            var pathPart: Substring = ""
            if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                authority = rest[..<end]
                pathPart = rest[end...].drop { $0 == "/" }
            }
            var username: String?
            var password: String?
            if let at = authority.lastIndex(of: "@") {
                let credentials = authority[..<at]
                authority = authority[authority.index(after: at)...]
                if let colon = credentials.firstIndex(of: ":") {
                    let user = try Self.percentDecoded(credentials[..<colon], fail: fail)
                    username = user.isEmpty ? nil : user
                    password = try Self.percentDecoded(credentials[credentials.index(after: colon)...], fail: fail)
                } else {
                    password = try Self.percentDecoded(credentials, fail: fail)
                }
            }
            let (host, port) = try Self.hostAndPort(authority, fail: fail)
            var database = 0
            if let query = pathPart.firstIndex(of: "?") {
                database = try Self.database(fromQuery: pathPart[pathPart.index(after: query)...], fail: fail)
                pathPart = pathPart[..<query]
            }
            if !pathPart.isEmpty {
                guard let number = Int(pathPart), number >= 0 else { throw fail("the database must be a number") }
                database = number
            }
            try self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
        case "rediss":
            throw fail("TLS (rediss://) is not supported by this client")
        default:
            throw fail("the scheme \(scheme) is not redis:// or unix://")
        }
    }

    private static func hostAndPort(
        _ authority: Substring, fail: (String) -> RedisError
    ) throws(RedisError) -> (String, Int) {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("an IPv6 host lacks its ]") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw fail("text follows the host") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw fail("it has no host") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw fail("the port is not a number in 1...65535") }
            port = number
        }
        return (String(host), port)
    }

    private static func database(fromQuery query: Substring, fail: (String) -> RedisError) throws(RedisError) -> Int {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "db" else { throw fail("only the query parameter db is understood") }
            guard let number = Int(parts[1]), number >= 0 else { throw fail("the database must be a number") }
            return number
        }
        return 0
    }

    private static func percentDecoded(_ text: Substring, fail: (String) -> RedisError) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw fail("a percent-escape in the credentials is malformed")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
