import BackgroundJobsDomain
import BackgroundJobsRedis
import Foundation
import Testing

@Suite("Redis keys")
struct RedisKeysTests {
    @Test("the default prefix gives the documented key layout")
    func layout() throws {
        let keys = try RedisKeys()
        let id = JobID.generate(at: Date(timeIntervalSince1970: 0))
        #expect(keys.ready("email", .high) == "jobs:queue:email:high")
        #expect(keys.delayed == "jobs:delayed")
        #expect(keys.data(id) == "jobs:data:\(id)")
        #expect(keys.processing(worker: "w1") == "jobs:processing:w1")
        #expect(keys.dead("email") == "jobs:failed:email")
        #expect(keys.readyLists("default") == [
            "jobs:queue:default:critical", "jobs:queue:default:high", "jobs:queue:default:normal", "jobs:queue:default:low",
        ])
    }

    @Test("a hash-tagged prefix keeps every key in one cluster slot")
    func hashTag() throws {
        let keys = try RedisKeys(prefix: "{jobs}")
        let all = [keys.ready("q", .low), keys.delayed, keys.processing(worker: "w"), keys.dead("q"), keys.workers, keys.unique("u")]
        #expect(all.allSatisfy { $0.hasPrefix("{jobs}:") })
    }

    @Test("an empty prefix or one with white space is refused", arguments: ["", "my jobs", "jobs\n", "jobs\r\nFLUSHALL", "a\tb"])
    func invalidPrefix(prefix: String) {
        #expect(throws: RedisError.self) { try RedisKeys(prefix: prefix) }
    }
}
