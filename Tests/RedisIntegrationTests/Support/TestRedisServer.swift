import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A redis-server of one test's own, for tests that restart, kill or reconfigure a server and so cannot
/// share the one `make test` starts.
final class TestRedisServer: Sendable {
    let port: Int
    let directory: URL
    let extraArguments: [String]
    private let process = Mutex<ChildProcess?>(nil)

    /// Starts a server on a free loopback port and waits until it answers.
    init(arguments: [String] = []) async throws {
        self.port = try Self.freePort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("bj-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = arguments
        try await start()
    }

    var url: String { "redis://127.0.0.1:\(port)" }

    /// Starts redis-server on this server's port, and waits until it accepts connections.
    func start() async throws {
        let arguments =
            ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path, "--logfile", "redis.log"]
            + extraArguments
        let child = try ChildProcess.spawn(Self.redisServerPath(), arguments)
        process.withLock { $0 = child }
        try await waitUntil("redis-server on port \(port) accepts connections", timeout: .seconds(10)) {
            Self.canConnect(port: self.port)
        }
    }

    /// Stops the server with `signal` and waits until it has exited and the port is free.
    func stop(signal: Int32 = SIGTERM) async throws {
        guard let child = process.withLock({ $0.take() }) else { return }
        child.signal(signal)
        try await waitUntil("redis-server on port \(port) exits", timeout: .seconds(10)) { child.hasExited() }
    }

    /// Stops the server, then starts a new one on the same port.
    func restart(signal: Int32 = SIGTERM) async throws {
        try await stop(signal: signal)
        try await start()
    }

    deinit {
        if let child = process.withLock({ $0.take() }) {
            child.signal(SIGKILL)
            while !child.hasExited() { usleep(1000) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func redisServerPath() throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + ["/usr/bin", "/usr/sbin"] {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent("redis-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        }
        throw TestSetupError("redis-server is not installed: run `make test`, which installs it")
    }

    /// A port the kernel just handed out, so nothing else is listening on it.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestSetupError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
