import Synchronization

/// The random part of job ids: xoshiro256** seeded once from the system's generator. Asking the kernel for
/// random bytes costs a system call per id, which showed up first in the bulk-enqueue profile; ids need
/// uniqueness, not secrecy, and 256 bits of seed give that.
final class IDRandom: Sendable {
    static let shared = IDRandom()

    private let state: Mutex<(UInt64, UInt64, UInt64, UInt64)>

    private init() {
        var system = SystemRandomNumberGenerator()
        state = Mutex((system.next(), system.next(), system.next(), system.next() | 1))
    }

    func next() -> UInt64 {
        state.withLock { s in
            let result = rotate(s.1 &* 5, 7) &* 9
            let t = s.1 << 17
            s.2 ^= s.0
            s.3 ^= s.1
            s.1 ^= s.2
            s.0 ^= s.3
            s.2 ^= t
            s.3 = rotate(s.3, 45)
            return result
        }
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// A generator over ``IDRandom/shared``.
struct IDRandomGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { IDRandom.shared.next() }
}
