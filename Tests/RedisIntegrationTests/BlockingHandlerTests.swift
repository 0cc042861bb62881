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
            // As many blocking handlers as the global executor has threads, in a worker process of their own
            // (blocking this process's threads would hold up every other test).
            let threads = max(2, ProcessInfo.processInfo.activeProcessorCount)
            let jobs = (0..<threads).map { _ in
                Job(
                    id: JobID.generate(at: Date()), name: "hold", payload: Array(#"{"milliseconds":6000,"block":true}"#.utf8),
                    options: JobOptions(), maxRetries: 0, createdAt: Date())
            }
            for job in jobs { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let worker = try WorkerID("blocked-\(UInt32.random(in: 0...UInt32.max))")
            let child = try ChildProcess.spawn(
                try WorkerCrashTests.workerExecutable(), [try SharedRedis.url(), keys.prefix, worker.rawValue, "\(threads)", "200", "3000"])
            defer {
                child.signal(SIGKILL)
                while !child.hasExited() { usleep(1000) }
            }
            let heartbeat = keys.heartbeat(worker: worker.rawValue)
            try await waitUntil("every handler started", timeout: .seconds(20)) {
                for job in jobs where try await client.send("GET", "\(keys.prefix):runs:\(job.id)").string != "1" { return false }
                return true
            }
            var lapses = 0
            var checks = 0
            try await waitUntil("every job completed", timeout: .seconds(30), pollEvery: .milliseconds(20)) {
                checks += 1
                if try await client.send("EXISTS", heartbeat) != .integer(1) { lapses += 1 }
                for job in jobs where try await queue.job(job.id)?.status != .completed { return false }
                return true
            }
            #expect(checks > 10, "the heartbeat was watched through the blocking")
            #expect(lapses == 0, "the heartbeat key lapsed while the handlers blocked")
            for job in jobs {
                #expect(try await client.send("GET", "\(keys.prefix):runs:\(job.id)").string == "1", "each job ran once")
                #expect(try await queue.job(job.id)?.stalls == 0)
            }
        }
    }
}

@Suite("Worker pool: handlers on dedicated threads", .timeLimit(.minutes(2)))
struct DedicatedThreadTests {
    @Test("with dedicated_threads, handlers that block past their timeout and ignore the cancel hold up no other job; the slots go on")
    func zombiesKeepTheirThreads() async throws {
        try await SharedRedis.withQueue { queue, client, keys in
            // More blocking handlers than Swift's global executor has threads: there they would stall everything.
            let hungCount = max(2, ProcessInfo.processInfo.activeProcessorCount) + 1
            let hung = (0..<hungCount).map { _ in
                JobWorkerPoolTests.job(payload: #"{"text":"hang"}"#, options: JobOptions(maxRetries: 0, timeout: .milliseconds(200)))
            }
            let normal = (0..<20).map { _ in JobWorkerPoolTests.job() }
            for job in hung + normal { _ = try await queue.enqueue(job, limits: QueueLimits()) }
            let runs = Mutex<[JobID: Int]>([:])
            var registry = JobRegistry()
            registry.register(JobWorkerPoolTests.echo) { echo, context in
                runs.withLock { $0[context.job.id, default: 0] += 1 }
                if echo.text == "hang" {
                    usleep(20_000_000)
                } else {
                    usleep(10_000)
                }
            }
            let pool = try JobWorkerPoolTests.pool(queue, registry) {
                $0.concurrency = 2
                $0.handlerPlacement = .dedicatedThreads
            }
            let started = ContinuousClock.now
            try await withRunning([pool], logger: SharedRedis.logger) {
                try await waitUntil("the normal jobs completed and the hung ones are dead", timeout: .seconds(30), pollEvery: .milliseconds(20)) {
                    for job in normal where try await queue.job(job.id)?.status != .completed { return false }
                    for job in hung where try await queue.job(job.id)?.status != .dead { return false }
                    return true
                }
            }
            #expect(ContinuousClock.now - started < .seconds(10), "the blocked handlers held the others up")
            for job in hung { #expect(try await queue.job(job.id)?.lastError == "timed out after 0.2 seconds") }
            #expect(runs.withLock { $0.values.allSatisfy { $0 == 1 } && $0.count == hungCount + 20 })
            _ = client
            _ = keys
        }
    }
}
