import Crypto

/// The signature a receiver checks: HMAC-SHA256 over `"<timestamp>.<body>"` with the shared secret,
/// hex-encoded and prefixed `sha256=`. Signing the timestamp with the body lets a receiver refuse
/// replays of an old delivery.
public enum WebhookSignature {
    /// The header carrying the signature.
    public static let header = "X-BackgroundJobs-Signature"
    /// The header carrying the Unix time (seconds) the signature covers.
    public static let timestampHeader = "X-BackgroundJobs-Timestamp"

    /// `sha256=<hex>` for `body` sent at `timestamp`.
    public static func sign(body: [UInt8], timestamp: Int, secret: [UInt8]) -> String {
        var message = Array(String(timestamp).utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }

    /// Whether `signature` is the one `sign` makes, compared in constant time.
    public static func verify(_ signature: String, body: [UInt8], timestamp: Int, secret: [UInt8]) -> Bool {
        let expected = Array(sign(body: body, timestamp: timestamp, secret: secret).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }
}
