import Foundation

/// Renders an ``EmailMessage`` as the bytes sent after `DATA` (RFC 5322 with MIME): every line ends in
/// CRLF, headers with non-ASCII text are RFC 2047 encoded words, bodies are UTF-8 in base64, and a line
/// that starts with a dot gets another (RFC 5321 dot-stuffing), so the message cannot end early.
enum MIMEMessage {
    static func render(_ message: EmailMessage, date: Date, messageID: String, boundary: String) throws(EmailError) -> [UInt8] {
        var lines: [String] = []
        // Values are checked before they are encoded (encoding folds long ones onto continuation lines
        // itself); addresses and names were checked when they were made.
        func header(_ name: String, _ value: String) throws(EmailError) {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw EmailError(.invalidMessage, "\(name.debugDescription) is not a header name")
            }
            lines.append("\(name): \(value)")
        }
        func checked(_ name: String, _ raw: String) throws(EmailError) -> String {
            guard !raw.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw EmailError(.invalidMessage, "the \(name) header contains a line break")
            }
            return encodedText(raw)
        }
        guard !message.recipients.isEmpty else { throw EmailError(.invalidMessage, "the message has no recipient") }
        try header("Date", rfc5322(date))
        try header("From", mailbox(message.from))
        if !message.to.isEmpty { try header("To", message.to.map(mailbox).joined(separator: ", ")) }
        if !message.cc.isEmpty { try header("Cc", message.cc.map(mailbox).joined(separator: ", ")) }
        if let replyTo = message.replyTo { try header("Reply-To", mailbox(replyTo)) }
        try header("Message-ID", "<\(messageID)>")
        try header("Subject", checked("Subject", message.subject))
        for (name, value) in message.headers { try header(name, checked(name, value)) }
        try header("MIME-Version", "1.0")
        if let html = message.html {
            try header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("This is a multi-part message in MIME format.")
            for (type, body) in [("text/plain", message.text), ("text/html", html)] {
                lines.append("--\(boundary)")
                lines += part(type: type, body: body)
            }
            lines.append("--\(boundary)--")
        } else {
            lines += part(type: "text/plain", body: message.text)
        }
        // Headers are folded above, bodies are base64: the only lines starting with "." would be folded
        // encoded words, never; stuffing anyway keeps the invariant local to this one place.
        var bytes: [UInt8] = []
        for line in lines.flatMap({ $0.components(separatedBy: "\r\n") }) {
            if line.hasPrefix(".") { bytes.append(UInt8(ascii: ".")) }
            bytes.append(contentsOf: line.utf8)
            bytes.append(contentsOf: [13, 10])
        }
        return bytes
    }

    private static func part(type: String, body: String) -> [String] {
        let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""] + encoded.components(separatedBy: "\r\n")
    }

    /// `Name <address>`, the name quoted or encoded as it needs.
    static func mailbox(_ mailbox: EmailAddress) -> String {
        guard let name = mailbox.name else { return mailbox.address }
        if name.utf8.allSatisfy({ $0 < 127 }) {
            let plain = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == " " || "!#$%&'*+-/=?^_`{|}~".contains($0) }
            let shown = plain ? name : "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            return "\(shown) <\(mailbox.address)>"
        }
        return "\(encodedWords(name)) <\(mailbox.address)>"
    }

    /// The text as it is when ASCII, else RFC 2047 encoded words.
    static func encodedText(_ text: String) -> String {
        text.utf8.allSatisfy({ $0 < 127 }) ? text : encodedWords(text)
    }

    /// `=?UTF-8?B?...?=` words of at most 75 characters, split between characters (never inside one),
    /// folded onto continuation lines.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            // 45 bytes are 60 base64 characters; with "=?UTF-8?B?" and "?=" that is 72.
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
