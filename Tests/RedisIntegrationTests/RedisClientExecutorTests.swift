import BackgroundJobsRedis
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Redis client: tasks on the connections' threads", .timeLimit(.minutes(2)))
struct RedisClientExecutorTests {
    @Test("50 tasks on the connections' threads × 2,000 INCR end at exactly 100,000; replies go to their tasks; the tasks stay on those threads")
    func pipeliningOnConnectionThreads() async throws {
        try await SharedRedis.withClient { client, prefix in
            let counter = prefix + "counter"
            let executors = client.taskExecutors
            #expect(executors.count == client.configuration.connectionCount)
            let strayThreads = Shared<Set<String>>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask(executorPreference: executors[task % executors.count]) {
                        for iteration in 0..<2_000 {
                            _ = try await client.send("INCR", counter)
                            let thread = currentThreadName()
                            if !thread.hasPrefix("redis-") { strayThreads.update { _ = $0.insert(thread) } }
                            if iteration % 20 == 0 {
                                let token = "task-\(task)-\(iteration)"
                                #expect(try await client.send("ECHO", token).string == token)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send("GET", counter).int == 100_000)
            #expect(strayThreads.value.isEmpty, "tasks resumed on other threads: \(strayThreads.value)")
        }
    }

    @Test("a task on a connection's thread that waits for something else (a timer, another task) runs on")
    func wakesForOtherWork() async throws {
        try await SharedRedis.withClient { client, prefix in
            let executor = client.taskExecutors[0]
            let result = try await Task(executorPreference: executor) { () -> [String] in
                var threads: [String] = []
                // The connection is idle here, so the timer's wake-up must reach its thread through the pipe.
                try await Task.sleep(for: .milliseconds(20))
                threads.append(currentThreadName())
                let other = Task.detached { try await client.send("INCR", prefix + "n").int }
                #expect(try await other.value == 1)
                threads.append(currentThreadName())
                #expect(try await client.send("INCR", prefix + "n").int == 2)
                threads.append(currentThreadName())
                return threads
            }.value
            #expect(result == ["redis-0", "redis-0", "redis-0"])
        }
    }

    @Test("after the client is closed, a task that prefers one of its connections still runs, elsewhere")
    func closedExecutorForwards() async throws {
        let client = RedisClient(configuration: try RedisConfiguration(url: SharedRedis.url()), logger: SharedRedis.logger)
        _ = try await client.send("PING")
        let executor = client.taskExecutors[0]
        await client.close()
        let (thread, error) = await Task(executorPreference: executor) { () -> (String, RedisError?) in
            do throws(RedisError) {
                _ = try await client.send("PING")
                return (currentThreadName(), nil)
            } catch {
                return (currentThreadName(), error)
            }
        }.value
        #expect(!thread.hasPrefix("redis-"))
        #expect(error?.code == .clientClosed)
    }

    @Test("a task on a connection's thread sees connection lost when redis-server restarts, and its next command succeeds")
    func restartUnderExecutor() async throws {
        let server = try await TestRedisServer()
        let client = RedisClient(configuration: try RedisConfiguration(url: server.url), logger: SharedRedis.logger)
        let executor = client.taskExecutors[1]
        let sent = Shared(0)
        let writer = Task(executorPreference: executor) { () -> [RedisError.Code] in
            var codes: [RedisError.Code] = []
            while codes.isEmpty || sent.value < 1_000 {
                do throws(RedisError) {
                    _ = try await client.send("INCR", "n")
                    sent.update { $0 += 1 }
                } catch {
                    codes.append(error.code)
                }
                if codes.count > 100 { break }
            }
            return codes
        }
        try await waitUntil("the writer has sent some commands") { sent.value > 100 }
        try await server.restart(signal: SIGKILL)
        let codes = await writer.value
        #expect(!codes.isEmpty && codes.count <= 100, "codes: \(codes)")
        #expect(codes.allSatisfy { [.connectionLost, .connectionFailed, .timeout].contains($0) }, "codes: \(codes)")
        let after = try await Task(executorPreference: executor) { try await client.send("PING") }.value
        #expect(after == .simpleString("PONG"))
        await client.close()
        try await server.stop()
    }
}

/// A value several tasks read and change.
private final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    func update(_ change: (inout Value) -> Void) { storage.withLock { change(&$0) } }
}
