public import BackgroundJobsCore
import BackgroundJobsDomain

/// The payload of a `file_processing` job. Paths are inside the configured roots (relative ones are
/// taken from the first).
///
/// ```json
/// {"operation": "thumbnail", "input": "uploads/cat.jpg", "output": "thumbs/cat.webp", "width": 256}
/// {"operation": "resize", "input_folder": "uploads/2026-12", "output_folder": "web/2026-12", "width": 1600, "format": "webp"}
/// {"operation": "extract_text", "input": "docs/contract.pdf", "output": "docs/contract.txt"}
/// {"operation": "generate_pdf", "output": "reports/daily.pdf", "title": "Daily report", "lines": ["Jobs: 1,204", "Failed: 3"]}
/// {"operation": "compress_video", "input": "videos/raw.mov", "output": "videos/web.mp4"}
/// ```
public struct FileRequest: Codable, Sendable, Hashable {
    public var operation: FileOperation
    /// One input file.
    public var input: String?
    /// Several input files (a batch).
    public var inputs: [String]?
    /// Every image directly in a folder (a batch).
    public var inputFolder: String?
    /// The output file (one input).
    public var output: String?
    /// Where a batch writes, each output named after its input (with the format's extension).
    public var outputFolder: String?
    /// Image box, in pixels.
    public var width: Int?
    public var height: Int?
    /// Thumbnails: crop to fill the box instead of fitting inside it.
    public var crop: Bool?
    /// 1–100, for JPEG and WebP (PNG: 90 and up compresses hardest); by default 82.
    public var quality: Int?
    /// The output image format; by default the output file's extension, or the input's type.
    public var format: String?
    /// `generate_pdf`: the report's title and lines.
    public var title: String?
    public var lines: [String]?

    public init(operation: FileOperation, input: String? = nil, output: String? = nil) {
        self.operation = operation
        self.input = input
        self.output = output
    }

    enum CodingKeys: String, CodingKey {
        case operation, input, inputs, output, width, height, crop, quality, format, title, lines
        case inputFolder = "input_folder"
        case outputFolder = "output_folder"
    }
}

/// What a `file_processing` job does.
public enum FileOperation: String, Codable, Sendable, CaseIterable {
    /// Checks type (by content), size and image dimensions against the limits; writes nothing.
    case validate
    /// Fits an image within `width` × `height`.
    case resize
    /// Saves an image again at `quality` with its metadata stripped.
    case optimize
    /// Saves an image as `format`.
    case convert
    /// A small version within (or, with `crop`, filling) `width` × `height`.
    case thumbnail
    /// A PDF's text (pdftotext), into `output` or, when short, the job's result.
    case extractText = "extract_text"
    /// A simple PDF report: `title` and `lines`.
    case generatePDF = "generate_pdf"
    /// An H.264/AAC MP4 at a web-friendly quality (ffmpeg).
    case compressVideo = "compress_video"
    /// A video in the container of `output`'s extension: mp4 (H.264) or webm (VP9/Opus) (ffmpeg).
    case convertVideo = "convert_video"

    var isImageOperation: Bool { [.resize, .optimize, .convert, .thumbnail].contains(self) }
}

/// What a `file_processing` job stores as its result.
public struct FileResult: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var input: String?
        public var output: String?
        public var bytes: Int?
        public var width: Int?
        public var height: Int?
        public var type: FileType?
        public var error: String?
    }

    /// One per file handled (a batch has several; one that failed has its `error`).
    public var items: [Item]
    /// `extract_text` without an `output`: the text.
    public var text: String?
}

extension JobDefinition where Payload == FileRequest {
    /// The `file_processing` job type.
    public static var fileProcessing: JobDefinition<FileRequest> { JobDefinition("file_processing") }
}
