import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// scripts/smtp-sink.py (Debian's aiosmtpd) on a free loopback port, with its messages.
final class TestSMTPServer: @unchecked Sendable {
    // Written only in init; the process is only signalled afterwards.
    let port: Int
    let directory: String
    private let process: Process

    struct Received: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var data: String
        var tls: Bool
        var login: String?
    }

    /// Starts the sink; `arguments` are its options (`--auth user:pw`, `--tls-cert`, ...).
    init(arguments: [String] = []) async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/smtp-sink.py").path
        for _ in 0..<10 {
            let port = Int.random(in: 20_000...50_000)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bj-smtp-\(UUID().uuidString.prefix(8))").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script, "--port", "\(port)", "--dir", directory] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline && process.isRunning && !FileManager.default.fileExists(atPath: directory + "/ready") {
                try await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning && FileManager.default.fileExists(atPath: directory + "/ready") {
                self.port = port
                self.directory = directory
                self.process = process
                return
            }
            // The port was taken, most likely: try another.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: directory)
        }
        throw TestFailure("the SMTP sink did not start (is python3-aiosmtpd installed? `make test` installs it)")
    }

    /// The messages received so far, in order.
    var messages: [Received] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return files.compactMap { file in
            (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))).flatMap { try? JSONDecoder().decode(Received.self, from: $0) }
        }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A self-signed certificate for localhost and 127.0.0.1 in `directory`: (certificate, key) paths.
    static func makeCertificate(in directory: String) throws -> (String, String) {
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        let result = try run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard result.status == 0 else { throw TestFailure("openssl could not make a certificate") }
        return (certificate, key)
    }
}

/// A received message, read the way a mail client would: headers unfolded and decoded, parts decoded.
struct ParsedMessage {
    var headers: [String: String] = [:]
    var rawHeaders: [String: String] = [:]
    var text: String?
    var html: String?
    var contentType = ""

    init(_ data: String) {
        let sections = data.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
        let (headers, raw) = Self.headers(sections[0])
        self.headers = headers
        self.rawHeaders = raw
        contentType = headers["content-type"] ?? ""
        let body = sections.dropFirst().joined(separator: "\n\n")
        if let boundaryRange = contentType.range(of: "boundary=\"") {
            let boundary = String(contentType[boundaryRange.upperBound...].prefix { $0 != "\"" })
            for part in body.components(separatedBy: "--\(boundary)").dropFirst() where !part.hasPrefix("--") {
                let pieces = part.trimmingCharacters(in: .newlines).components(separatedBy: "\n\n")
                let (partHeaders, _) = Self.headers(pieces[0])
                let decoded = Self.base64(pieces.dropFirst().joined(separator: "\n\n"))
                if partHeaders["content-type"]?.hasPrefix("text/html") == true { html = decoded } else { text = decoded }
            }
        } else {
            text = Self.base64(body)
        }
    }

    private static func headers(_ block: String) -> ([String: String], [String: String]) {
        var headers: [String: String] = [:]
        var raw: [String: String] = [:]
        var lines: [String] = []
        for line in block.components(separatedBy: "\n") {
            if (line.hasPrefix(" ") || line.hasPrefix("\t")), !lines.isEmpty { lines[lines.count - 1] += "\n" + line } else { lines.append(line) }
        }
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            raw[name] = value
            headers[name] = decodeWords(value.replacingOccurrences(of: "\n ", with: " "))
        }
        return (headers, raw)
    }

    /// RFC 2047 `=?UTF-8?B?...?=` words, adjacent ones joined as the RFC says.
    static func decodeWords(_ value: String) -> String {
        var result = ""
        var rest = Substring(value)
        var lastWasWord = false
        while let start = rest.range(of: "=?UTF-8?B?") {
            let between = rest[..<start.lowerBound]
            if !(lastWasWord && between.allSatisfy(\.isWhitespace)) { result += between }
            guard let end = rest[start.upperBound...].range(of: "?=") else { break }
            let encoded = String(rest[start.upperBound..<end.lowerBound])
            result += Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? ""
            rest = rest[end.upperBound...]
            lastWasWord = true
        }
        return result + rest
    }

    static func base64(_ text: String) -> String {
        let joined = text.components(separatedBy: .whitespacesAndNewlines).joined()
        return Data(base64Encoded: joined).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
