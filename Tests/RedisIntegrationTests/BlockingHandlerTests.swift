import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker pool: handlers that block the global executor", .timeLimit(.minutes(2)))
struct BlockingHandlerTests {
    @Test("handlers blocking every thread of Swift's global executor past the heartbeat TTL do not silence the heartbeat, and run once")
    func heartbeatGoesOn() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            // As many blocking handlers as the global executor has threads: nothing else runs there meanwhile.
            let threads = max(2, ProcessInfo.processInfo.activeProcessorCount)
            let jobs = (0..<threads).map { _ in JobWorkerPoolTests.job() }
            for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            var registry = JobRegistry()
            registry.register(JobWorkerPoolTests.echo) { _, context in
                _ = try await client.send("INCR", "\(keys.prefix):runs:\(context.job.id)")
                usleep(3_000_000)
            }
            let worker = try WorkerID("blocked-\(UInt32.random(in: 0...UInt32.max))")
            let pool = try JobWorkerPoolTests.pool(queue, registry) {
                $0.workerID = worker
                $0.concurrency = threads
                $0.heartbeatInterval = .milliseconds(100)
                $0.heartbeatTTL = .seconds(1)
                $0.reaperInterval = .milliseconds(100)
            }
            // The watcher runs on a thread of its own: the tasks of this test are stuck with the pool's handlers.
            let watcher = try KeyWatcher(url: try SharedRedis.url(), key: keys.heartbeat(worker: worker.rawValue))
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("every job completed", timeout: .seconds(30), pollEvery: .milliseconds(50)) {
                    for job in jobs where try await queue.job(job.id)?.status != .completed { return false }
                    return true
                }
            }
            let (seen, lapses) = watcher.stop()
            #expect(seen > 0, "the watcher saw the heartbeat")
            #expect(lapses == 0, "the heartbeat key lapsed while the handlers blocked")
            for job in jobs {
                #expect(try await client.send("GET", "\(keys.prefix):runs:\(job.id)").string == "1", "each job ran once")
                #expect(try await queue.job(job.id)?.stalls == 0)
            }
        }
    }
}

/// Polls whether a key exists, every 20 ms, on a thread of its own with a plain socket: it sees the key
/// while every task of the process is held up.
final class KeyWatcher: Sendable {
    private struct State {
        var seen = 0
        var lapses = 0
        var stop = false
    }

    private let state = Mutex(State())
    private let done = Mutex<Bool>(false)

    init(url: String, key: String) throws {
        guard let address = URL(string: url), let host = address.host, let port = address.port else {
            throw TestSetupError("the watcher needs a redis://host:port URL, not \(url)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sockaddr = sockaddr_in()
        sockaddr.sin_family = sa_family_t(AF_INET)
        sockaddr.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        sockaddr.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &sockaddr) {
            $0.withMemoryRebound(to: Glibc.sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, connected == 0 else { throw TestSetupError("the watcher could not connect to \(url)") }
        let command = Array("*2\r\n$6\r\nEXISTS\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8)
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64)
            while !state.withLock({ $0.stop }) {
                _ = command.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                let count = read(fd, &buffer, buffer.count)
                let reply = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
                state.withLock { state in
                    if reply.hasPrefix(":1") { state.seen += 1 } else if state.seen > 0 { state.lapses += 1 }
                }
                usleep(20_000)
            }
            close(fd)
            done.withLock { $0 = true }
        }
        thread.start()
    }

    /// Stops the thread; returns how often the key was there, and how often it was gone after that.
    func stop() -> (seen: Int, lapses: Int) {
        state.withLock { $0.stop = true }
        while !done.withLock({ $0 }) { usleep(1000) }
        return state.withLock { ($0.seen, $0.lapses) }
    }
}
