@testable import BackgroundJobsRedis
import BackgroundJobsDomain
import Testing

@Suite("Redis keys in Lua")
struct RedisKeysLuaTests {
    @Test("scripts build exactly the keys RedisKeys builds", arguments: ["jobs", "{jobs}", "app:jobs"])
    func sameLayout(prefix: String) async throws {
        try await SharedRedis.withClient { client, _ in
            let keys = try RedisKeys(prefix: prefix)
            let script = RedisScript(
                RedisKeys.lua + """
                    local K = keysFor(ARGV[1])
                    return {K.ready('mail', 'high'), K.delayed, K.data('01ARZ3NDEKTSV4RRFFQ69G5FAV'), K.processing('w-1'), K.dead('mail'),
                      K.completed('mail'), K.cancelled('mail'), K.heartbeat('w-1'), K.workers, K.wake('mail'), K.timerWake,
                      K.unique('invoice:7'), K.unfinished('mail'), K.counts('mail'), K.queues, K.paused, K.control('w-1'), K.events}
                    """)
            let reply = try await client.run(script, keys: [], arguments: [prefix])
            let id = try JobID("01ARZ3NDEKTSV4RRFFQ69G5FAV")
            let expected = [
                keys.ready("mail", .high), keys.delayed, keys.data(id),
                keys.processing(worker: "w-1"), keys.dead("mail"), keys.completed("mail"), keys.cancelled("mail"),
                keys.heartbeat(worker: "w-1"), keys.workers, keys.wake("mail"), keys.timerWake, keys.unique("invoice:7"),
                keys.unfinished("mail"), keys.counts("mail"), keys.queues, keys.paused, keys.control(worker: "w-1"), keys.events,
            ]
            #expect(reply.array?.compactMap(\.string) == expected)
        }
    }
}
