import BackgroundJobsRedis
import Testing

@Suite("Redis client commands", .timeLimit(.minutes(2)))
struct RedisClientCommandTests {
    @Test("every reply type round-trips")
    func replyTypes() async throws {
        try await SharedRedis.withClient { client, prefix in
            #expect(try await client.send("SET", prefix + "text", "hello") == .simpleString("OK"))
            #expect(try await client.send("GET", prefix + "text") == .bulkString(Array("hello".utf8)))
            #expect(try await client.send("INCRBY", prefix + "number", 41) == .integer(41))
            #expect(try await client.send("INCR", prefix + "number") == .integer(42))
            #expect(try await client.send("GET", prefix + "missing") == .null)
            _ = try await client.send("RPUSH", prefix + "list", "a", "b", "c")
            #expect(try await client.send("LRANGE", prefix + "list", 0, -1) == .array([.bulkString([97]), .bulkString([98]), .bulkString([99])]))
            #expect(try await client.send("LRANGE", prefix + "empty", 0, -1) == .array([]))

            let nested = try await client.send("EVAL", "return {1, {'two', {3}}, redis.status_reply('FINE'), false}", 0)
            #expect(nested == .array([.integer(1), .array([.bulkString(Array("two".utf8)), .array([.integer(3)])]), .simpleString("FINE"), .null]))

            let withError = try await client.send("EVAL", "return {1, redis.error_reply('INNER went wrong')}", 0)
            #expect(withError == .array([.integer(1), .error("INNER went wrong")]))
        }
    }

    @Test("an error reply is thrown as a server error with its prefix, and the connection goes on")
    func errorReply() async throws {
        try await SharedRedis.withClient { client, prefix in
            _ = try await client.send("SET", prefix + "text", "x")
            let error = try await #require(throws: RedisError.self) {
                try await client.send("LPUSH", prefix + "text", "y")
            }
            #expect(error.code == .serverError)
            #expect(error.serverErrorPrefix == "WRONGTYPE")
            #expect(error.message.hasPrefix("LPUSH failed: WRONGTYPE"))
            #expect(try await client.send("PING") == .simpleString("PONG"))
        }
    }

    @Test("binary values with NUL bytes and every byte value survive")
    func binarySafe() async throws {
        try await SharedRedis.withClient { client, prefix in
            let allBytes = (0...255).map { UInt8($0) } + [0, 0, 13, 10, 0]
            _ = try await client.send("SET", prefix + "binary", allBytes)
            #expect(try await client.send("GET", prefix + "binary") == .bulkString(allBytes))
            #expect(try await client.send("STRLEN", prefix + "binary") == .integer(allBytes.count))

            let binaryKey: [UInt8] = Array(prefix.utf8) + [0, 255, 10]
            _ = try await client.send("SET", binaryKey, "v")
            #expect(try await client.send("EXISTS", binaryKey) == .integer(1))
            _ = try await client.send("DEL", binaryKey)
        }
    }

    @Test("a 1 MB value survives the round trip")
    func largeValue() async throws {
        try await SharedRedis.withClient { client, prefix in
            var generator = SystemRandomNumberGenerator()
            let value = (0..<1_048_576).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try await client.send("SET", prefix + "large", value)
            #expect(try await client.send("GET", prefix + "large") == .bulkString(value))
        }
    }

    @Test("50 concurrent tasks × 2,000 INCR end at exactly 100,000, and no reply goes to the wrong task")
    func concurrentPipelining() async throws {
        try await SharedRedis.withClient { client, prefix in
            let counter = prefix + "counter"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        for iteration in 0..<2_000 {
                            _ = try await client.send("INCR", counter)
                            if iteration % 20 == 0 {
                                let token = "task-\(task)-\(iteration)"
                                let echoed = try await client.send("ECHO", token)
                                #expect(echoed.string == token)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send("GET", counter).int == 100_000)
        }
    }

    @Test("commands spread over several pipelined connections all succeed")
    func severalConnections() async throws {
        try await SharedRedis.withClient(configure: { $0.connectionCount = 3 }) { client, prefix in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<9 {
                    group.addTask { for _ in 0..<100 { _ = try await client.send("INCR", prefix + "n") } }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send("GET", prefix + "n").int == 900)
        }
    }

    @Test("a script's SHA-1 is the one Redis computes, and it is reloaded after SCRIPT FLUSH")
    func scriptReload() async throws {
        try await SharedRedis.withClient { client, prefix in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.send("SCRIPT", "LOAD", script.source).string == script.sha1)

            #expect(try await client.run(script, keys: [prefix + "n"], arguments: [5]) == .integer(5))
            _ = try await client.send("SCRIPT", "FLUSH")
            #expect(try await client.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))

            #expect(try await client.run(script, keys: [prefix + "n"], arguments: [2]) == .integer(7))
            #expect(try await client.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))

            // The same with arguments framed beforehand, and behind another command on a connection of its own.
            _ = try await client.send("SCRIPT", "FLUSH")
            var framed = RedisArguments()
            framed.append(3)
            #expect(try await client.run(script, keys: [prefix + "n"], arguments: framed) == .integer(10))
            _ = try await client.send("SCRIPT", "FLUSH")
            let (pushed, total) = try await client.withBlockingConnection { connection in
                let total = try await connection.run(
                    script, keys: [prefix + "n"], arguments: [4], after: RedisCommand("RPUSH", arguments: [prefix + "list", "x"]))
                return (try await connection.send("LLEN", prefix + "list"), total)
            }
            #expect(total == .integer(14))
            #expect(pushed == .integer(1), "the command in front ran once, though the script was sent again")
        }
    }

    @Test("a script that raises an error throws it with the script's message")
    func scriptError() async throws {
        try await SharedRedis.withClient { client, _ in
            let script = RedisScript("return redis.error_reply('BADJOB the job is malformed')")
            let error = try await #require(throws: RedisError.self) { try await client.run(script) }
            #expect(error.serverErrorPrefix == "BADJOB")
        }
    }

    @Test("blocking commands wait on their own connection while ordinary commands go on")
    func blockingConnection() async throws {
        try await SharedRedis.withClient { client, prefix in
            let list = prefix + "wake"
            // Named, because tests running beside this one block clients of their own: the server-wide count
            // of blocked clients does not say this BLPOP is blocked. The 30 s timeout is far from what a
            // loaded machine takes to get to the RPUSH (a 2 s one ran out once in CI).
            let name = "blocking-" + prefix.filter { $0.isLetter || $0.isNumber }
            async let popped = client.withBlockingConnection { connection in
                _ = try await connection.send("CLIENT", "SETNAME", name)
                return try await connection.send("BLPOP", list, 30)
            }
            // The pipelined connection is not held up by the blocked BLPOP.
            for _ in 0..<10 { #expect(try await client.send("PING") == .simpleString("PONG")) }
            try await waitUntil("BLPOP is blocked") {
                let clients = try await client.send("CLIENT", "LIST").string ?? ""
                return clients.split(separator: "\n").contains { $0.contains("name=\(name) ") && $0.contains("cmd=blpop") }
            }
            _ = try await client.send("RPUSH", list, "job-1")
            #expect(try await popped == .array([.bulkString(Array(list.utf8)), .bulkString(Array("job-1".utf8))]))
        }
    }
}
