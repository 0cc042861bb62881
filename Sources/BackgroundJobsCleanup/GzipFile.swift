import CompressNIO
import Foundation
import NIOCore

/// Compresses a file to `<path>.gz` with gzip, in slices, so a large log never sits in memory whole.
enum GzipFile {
    /// Writes `<path>.gz` beside `path` (through a temporary file renamed into place, so a crash never
    /// leaves a truncated archive under the final name), keeps the original's modification time on it,
    /// removes the original, and returns the compressed size.
    static func compress(_ path: String) throws -> Int {
        let target = path + ".gz"
        let temporary = target + ".partial"
        guard let input = FileHandle(forReadingAtPath: path) else { throw CleanupError("could not open \(path)") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let output = FileHandle(forWritingAtPath: temporary) else {
            throw CleanupError("could not create \(temporary)")
        }
        var written = 0
        do {
            defer { try? output.close() }
            let compressor = try ZlibCompressor(algorithm: .gzip)
            let allocator = ByteBufferAllocator()
            while true {
                let chunk = try input.read(upToCount: 1 << 20) ?? Data()
                var buffer = allocator.buffer(bytes: chunk)
                let compressed = try buffer.compressStream(with: compressor, flush: chunk.isEmpty ? .finish : .sync, allocator: allocator)
                let bytes = Data(compressed.readableBytesView)
                try output.write(contentsOf: bytes)
                written += bytes.count
                if chunk.isEmpty { break }
            }
            try output.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] {
            try? FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: temporary)
        }
        try FileManager.default.moveItem(atPath: temporary, toPath: target)
        try FileManager.default.removeItem(atPath: path)
        return written
    }
}
