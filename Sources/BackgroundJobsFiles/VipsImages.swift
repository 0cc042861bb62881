internal import CVips
import Foundation
import NIOPosix

/// Image work through libvips, on NIO's blocking thread pool: libvips calls block (they read, compute
/// and write whole images), and a blocking call on Swift's cooperative pool would stall every task.
enum VipsImages {
    /// Starts libvips once per process.
    private static let started: Bool = {
        vips_init("backgroundjobs") == 0
    }()

    /// Output formats.
    enum Format: String, Codable, Sendable {
        case jpeg, png, webp

        init?(extension name: String) {
            switch name.lowercased() {
            case "jpg", "jpeg": self = .jpeg
            case "png": self = .png
            case "webp": self = .webp
            default: return nil
            }
        }
    }

    /// What to do to an image.
    enum Operation: Sendable {
        /// Fit within `width` × `height` (either may be absent), keeping the aspect ratio.
        case resize(width: Int?, height: Int?)
        /// A small version, cropped to fill the box when `crop`; fast (shrinks while decoding).
        case thumbnail(width: Int, height: Int?, crop: Bool)
        /// The same pixels, saved again (quality, metadata stripped).
        case reencode
    }

    /// Runs `operation` on `input`, saving `output` as `format` at `quality` (1–100), metadata stripped;
    /// returns the output's dimensions.
    static func process(_ operation: Operation, input: String, output: String, format: Format, quality: Int) async throws -> (width: Int, height: Int) {
        try await NIOThreadPool.singleton.runIfActive {
            guard started else { throw FileProcessingError("libvips could not start: \(lastError())") }
            var image: UnsafeMutablePointer<VipsImage>?
            switch operation {
            case .thumbnail(let width, let height, let crop):
                guard bj_vips_thumbnail(input, &image, Int32(width), Int32(height ?? 10_000_000), crop ? 1 : 0) == 0, image != nil else {
                    throw FileProcessingError("the image could not be read: \(lastError())")
                }
            case .resize(let width, let height):
                guard let loaded = bj_vips_load(input) else { throw FileProcessingError("the image could not be read: \(lastError())") }
                defer { bj_vips_unref(loaded) }
                let (w, h) = (Double(vips_image_get_width(loaded)), Double(vips_image_get_height(loaded)))
                let scale = min(width.map { Double($0) / w } ?? .infinity, height.map { Double($0) / h } ?? .infinity)
                guard scale.isFinite, scale > 0 else { throw FileProcessingError("resize needs a width or a height") }
                guard bj_vips_resize(loaded, &image, scale, scale) == 0, image != nil else {
                    throw FileProcessingError("the image could not be resized: \(lastError())")
                }
            case .reencode:
                guard let loaded = bj_vips_load(input) else { throw FileProcessingError("the image could not be read: \(lastError())") }
                image = loaded
            }
            guard var result = image else { throw FileProcessingError("the image could not be processed: \(lastError())") }
            defer { bj_vips_unref(result) }
            if format == .jpeg, vips_image_hasalpha(result) != 0 {
                // JPEG has no transparency: flatten onto black rather than fail.
                var flat: UnsafeMutablePointer<VipsImage>?
                guard bj_vips_flatten(result, &flat) == 0, let flat else { throw FileProcessingError("the image could not be flattened: \(lastError())") }
                bj_vips_unref(result)
                result = flat
            }
            let quality = Int32(min(100, max(1, quality)))
            let saved: Int32
            switch format {
            case .jpeg: saved = bj_vips_jpegsave(result, output, quality, 1)
            case .png: saved = bj_vips_pngsave(result, output, quality >= 90 ? 9 : 6, 1)
            case .webp: saved = bj_vips_webpsave(result, output, quality, 1)
            }
            guard saved == 0 else { throw FileProcessingError("the image could not be saved as \(format.rawValue): \(lastError())") }
            return (Int(vips_image_get_width(result)), Int(vips_image_get_height(result)))
        }
    }

    /// The width and height from the image's header, without decoding its pixels.
    static func dimensions(_ path: String) async throws -> (width: Int, height: Int) {
        try await NIOThreadPool.singleton.runIfActive {
            guard started, let image = bj_vips_load(path) else { throw FileProcessingError("the image could not be read: \(lastError())") }
            defer { bj_vips_unref(image) }
            return (Int(vips_image_get_width(image)), Int(vips_image_get_height(image)))
        }
    }

    /// libvips's error text for the failed call, cleared for the next; paths are left out.
    private static func lastError() -> String {
        let text = String(cString: vips_error_buffer()).trimmingCharacters(in: .whitespacesAndNewlines)
        vips_error_clear()
        let firstLine = text.split(separator: "\n").first.map(String.init) ?? "unknown error"
        return firstLine.isEmpty ? "unknown error" : firstLine
    }
}
