import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Worker crashes", .timeLimit(.minutes(2)))
struct WorkerCrashTests {
    struct Hold: Codable, Sendable {
        var milliseconds: Int
    }

    /// The worker executable built beside the tests (`swift build --build-tests` builds it).
    static func workerExecutable() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug"),
        ].map { $0.appendingPathComponent("BackgroundJobsTestWorker").path }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestSetupError("BackgroundJobsTestWorker is not built; run `swift build --build-tests` (make test does)")
        }
        return found
    }

    @Test("jobs held by a worker killed with SIGKILL are taken over after its heartbeat expires, and all complete")
    func killNine() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            let jobs = (0..<20).map { _ in
                Job(
                    id: JobID.generate(at: Date()), name: "hold", payload: Array(#"{"milliseconds":30000}"#.utf8),
                    options: JobOptions(), maxRetries: 3, createdAt: Date())
            }
            for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }

            let victim = try WorkerID("victim-\(UInt32.random(in: 0...UInt32.max))")
            let child = try ChildProcess.spawn(
                try Self.workerExecutable(), [try SharedRedis.url(), keys.prefix, victim.rawValue, "5", "200", "1000"])
            var killed = false
            defer { if !killed { child.signal(SIGKILL); _ = child.hasExited() } }
            let processing = keys.processing(worker: victim.rawValue)
            // Five run and five more wait in the worker's buffer: all ten are held in its processing list.
            try await waitUntil("the worker holds ten jobs", timeout: .seconds(20)) {
                try await client.send("LLEN", processing) == .integer(10)
            }
            let held = try await client.send("LRANGE", processing, 0, -1).array?.compactMap(\.string).map { try JobID($0) } ?? []
            var started: Set<JobID> = []
            try await waitUntil("five of its handlers started") {
                started = []
                for id in held where try await client.send("GET", "\(keys.prefix):runs:\(id)").string == "1" { started.insert(id) }
                return started.count == 5
            }
            let listed = try await queue.workers().first { $0.id == victim }
            #expect(listed?.concurrency == 5)
            child.signal(SIGKILL)
            killed = true
            try await waitUntil("the worker is gone") { child.hasExited() }
            try await waitUntil("the worker list drops it once its heartbeat expires") {
                try await !queue.workers().contains { $0.id == victim }
            }

            var registry = JobRegistry()
            // The child sleeps 30 s in each job, so it surely holds them when killed; here they end at once.
            registry.register(JobDefinition<Hold>("hold")) { _, context in
                _ = try await client.send("INCR", "\(keys.prefix):runs:\(context.job.id)")
            }
            let rescuer = try JobWorkerPool(
                queue: queue, registry: registry,
                configuration: .init(concurrency: 20, heartbeatInterval: .milliseconds(200), heartbeatTTL: .seconds(2), reaperInterval: .milliseconds(100)),
                logger: SharedRedis.logger)
            try await withRunning([rescuer], logger: SharedRedis.logger) {
                try await waitUntil("every job completed", timeout: .seconds(30), pollEvery: .milliseconds(50)) {
                    for job in jobs where try await queue.job(job.id)?.status != .completed { return false }
                    return true
                }
            }
            for job in jobs {
                let runs = try await client.send("GET", "\(keys.prefix):runs:\(job.id)").string
                let stored = try #require(try await queue.job(job.id))
                if started.contains(job.id) {
                    #expect(runs == "2", "a job the killed worker ran runs again")
                    #expect(stored.stalls == 1)
                } else if held.contains(job.id) {
                    #expect(runs == "1", "a job it held but had not started runs once")
                    #expect(stored.stalls == 1)
                } else {
                    #expect(runs == "1")
                    #expect(stored.stalls == 0)
                }
            }
            #expect(try await client.send("EXISTS", processing) == .integer(0))
            #expect(try await client.send("SCARD", keys.workers) == .integer(0))
        }
    }
}
