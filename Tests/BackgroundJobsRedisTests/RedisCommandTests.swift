@testable import BackgroundJobsRedis
import Testing

@Suite("Redis command framing")
struct RedisCommandTests {
    @Test("a command is framed as a RESP array of bulk strings")
    func framing() {
        let command = RedisCommand("SET", "key", 42)
        #expect(String(decoding: command.frame, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n")
    }

    @Test("binary arguments keep their bytes and their exact length")
    func binary() {
        let command = RedisCommand("ECHO", [0, 13, 10, 255] as [UInt8])
        #expect(command.frame == Array("*2\r\n$4\r\nECHO\r\n$4\r\n".utf8) + [0, 13, 10, 255, 13, 10])
    }

    @Test("multi-byte UTF-8 is counted in bytes")
    func utf8Length() {
        let command = RedisCommand("ECHO", "día")
        #expect(String(decoding: command.frame, as: UTF8.self) == "*2\r\n$4\r\nECHO\r\n$4\r\ndía\r\n")
    }

    @Test("SHA-1 matches the standard test vectors")
    func sha1() {
        #expect(SHA1.hexDigest(of: Array("".utf8)) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hexDigest(of: Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(
            SHA1.hexDigest(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(SHA1.hexDigest(of: [UInt8](repeating: 0x61, count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("reply accessors convert only what fits")
    func accessors() {
        #expect(RedisValue.bulkString(Array("12".utf8)).int == 12)
        #expect(RedisValue.integer(3).string == "3")
        #expect(RedisValue.null.string == nil)
        #expect(RedisValue.array([]).int == nil)
        #expect(RedisValue.bulkString([1, 2, 3]).description == "$3 bytes", "descriptions never show payload bytes")
    }
}
