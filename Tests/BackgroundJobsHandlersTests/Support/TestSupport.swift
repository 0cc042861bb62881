import BackgroundJobsRedis
import Foundation
import Logging
import Testing

/// The redis-server `make test` started (REDIS_URL); a missing one is a failure, not a skip.
enum TestRedis {
    static var logger: Logger {
        var logger = Logger(label: "test.handlers")
        logger.logLevel = .warning
        return logger
    }

    /// Runs `body` with a client and a key prefix of its own, and deletes the prefix's keys afterwards.
    static func withClient(_ body: (RedisClient, String) async throws -> Void) async throws {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestFailure("REDIS_URL is not set: run the tests with `make test`, which starts a redis-server")
        }
        let client = try RedisClient(url: url, logger: logger)
        let prefix = "test-handlers-\(UUID().uuidString.prefix(8))"
        do {
            try await body(client, prefix)
        } catch {
            try? await deleteKeys(prefix, client)
            await client.close()
            throw error
        }
        try await deleteKeys(prefix, client)
        await client.close()
    }

    static func deleteKeys(_ prefix: String, _ client: RedisClient) async throws {
        var cursor = "0"
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", 1000)
            cursor = reply.array?[0].string ?? "0"
            let names = reply.array?[1].array?.compactMap(\.bytes) ?? []
            if !names.isEmpty { _ = try await client.send(RedisCommand("DEL", arguments: names)) }
        } while cursor != "0"
    }
}

/// A fresh directory under the system's temporary folder, deleted afterwards.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bj-handlers-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    // Resolved, so paths compare equal to what the handlers (which resolve links) report.
    let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    do {
        try await body(resolved)
    } catch {
        try? FileManager.default.removeItem(atPath: path)
        throw error
    }
    try FileManager.default.removeItem(atPath: path)
}

/// Writes `contents` to `path` (creating folders) and sets its modification time `age` ago.
func writeFile(_ path: String, _ contents: String = "x", age: Duration = .zero) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    try setAge(path, age)
}

func setAge(_ path: String, _ age: Duration) throws {
    let date = Date().addingTimeInterval(-Double(age.components.seconds))
    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
}

func fileExists(_ path: String) -> Bool {
    (try? FileManager.default.attributesOfItem(atPath: path)) != nil
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command, returning its exit status and standard output.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
