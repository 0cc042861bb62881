import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's name of the calling thread (the connection threads are named `redis-<n>`).
func currentThreadName() -> String {
    // Glibc's pthread_getname_np is not imported into Swift; the kernel shows the name in /proc too.
    let fd = open("/proc/thread-self/comm", O_RDONLY)
    guard fd >= 0 else { return "?" }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = read(fd, &buffer, buffer.count)
    return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
