public import BackgroundJobsCore
public import BackgroundJobsDomain
import Foundation

/// Runs `file_processing` jobs: images through libvips, PDF text through pdftotext, PDF reports of its
/// own making, video through ffmpeg; every path confined to the configured roots, every input checked
/// by content, size and dimensions first.
///
/// What cannot succeed as asked (a path outside the roots, a file that is not an image, a missing tool)
/// fails the job for good with the reason; a batch records each file's outcome and fails only when every
/// file did.
public struct FileProcessingHandler: Sendable {
    public struct Configuration: Sendable {
        /// The folders files are read from and written to.
        public var roots: [String]
        /// The largest input, in bytes; by default 100 MiB.
        public var maximumBytes: Int
        /// The largest image width and height, in pixels; by default 20,000 (a decompression bomb of a
        /// few kilobytes can claim far more).
        public var maximumDimension: Int
        /// The largest batch; by default 1,000 files.
        public var maximumBatch: Int
        /// The text extraction tool; by default `pdftotext` on the `PATH`.
        public var pdftotext: String
        /// The video tool; by default `ffmpeg` on the `PATH`.
        public var ffmpeg: String
        /// How long one tool run may take; by default 10 minutes.
        public var toolTimeout: Duration

        public init(
            roots: [String], maximumBytes: Int = 100 << 20, maximumDimension: Int = 20_000, maximumBatch: Int = 1000,
            pdftotext: String = "pdftotext", ffmpeg: String = "ffmpeg", toolTimeout: Duration = .seconds(600)
        ) {
            self.roots = roots
            self.maximumBytes = maximumBytes
            self.maximumDimension = maximumDimension
            self.maximumBatch = maximumBatch
            self.pdftotext = pdftotext
            self.ffmpeg = ffmpeg
            self.toolTimeout = toolTimeout
        }
    }

    let configuration: Configuration
    let paths: ConfinedPaths

    /// A handler; a root that does not exist is an error.
    public init(configuration: Configuration) throws(FileProcessingError) {
        self.configuration = configuration
        self.paths = try ConfinedPaths(roots: configuration.roots)
    }

    /// Registers the `file_processing` job type.
    public func register(into registry: inout JobRegistry, retry: RetryPolicy? = nil) {
        let handler = self
        registry.register(.fileProcessing, retry: retry) { request, _ in
            do {
                return try await handler.run(request)
            } catch let error as FileProcessingError {
                throw NonRetryableError(error.description)
            }
        }
    }

    /// Does what `request` asks.
    public func run(_ request: FileRequest) async throws -> FileResult {
        switch request.operation {
        case .generatePDF:
            guard let output = request.output else { throw FileProcessingError("generate_pdf needs \"output\"") }
            let path = try paths.output(output)
            let pdf = PDFReport.render(title: request.title ?? "Report", lines: request.lines ?? [])
            try write(pdf, to: path)
            return FileResult(items: [.init(input: nil, output: path, bytes: pdf.count, type: .pdf)])
        case .validate:
            let inputs = try batchInputs(request)
            var items: [FileResult.Item] = []
            for input in inputs {
                do {
                    let facts = try await validate(input, expecting: nil)
                    items.append(.init(input: facts.path, bytes: facts.bytes, width: facts.width, height: facts.height, type: facts.type))
                } catch let error as FileProcessingError {
                    items.append(.init(input: input, error: error.description))
                }
            }
            return try finished(items)
        case .extractText:
            return try await extractText(request)
        case .compressVideo, .convertVideo:
            return try await video(request)
        case .resize, .optimize, .convert, .thumbnail:
            return try await images(request)
        }
    }

    // MARK: Images

    private func images(_ request: FileRequest) async throws -> FileResult {
        let operation: VipsImages.Operation
        switch request.operation {
        case .resize:
            guard request.width != nil || request.height != nil else { throw FileProcessingError("resize needs a width or a height") }
            operation = .resize(width: request.width, height: request.height)
        case .thumbnail:
            guard let width = request.width ?? request.height else { throw FileProcessingError("thumbnail needs a width") }
            operation = .thumbnail(width: width, height: request.height, crop: request.crop ?? false)
        case .convert:
            guard request.format != nil || request.output != nil || request.outputFolder != nil else {
                throw FileProcessingError("convert needs a format or an output name")
            }
            operation = .reencode
        default:
            operation = .reencode
        }
        for dimension in [request.width, request.height].compactMap({ $0 }) where !(1...configuration.maximumDimension).contains(dimension) {
            throw FileProcessingError("a width or height must be from 1 to \(configuration.maximumDimension)")
        }
        if let format = request.format, VipsImages.Format(extension: format) == nil {
            throw FileProcessingError("the format \(format.prefix(20).debugDescription) is not jpeg, png or webp")
        }
        let quality = request.quality ?? 82
        guard (1...100).contains(quality) else { throw FileProcessingError("quality must be from 1 to 100") }

        if request.input != nil {
            guard let output = request.output else { throw FileProcessingError("\(request.operation.rawValue) needs \"output\"") }
            let input = try paths.existing(request.input!)
            let facts = try await validate(input, expecting: .image)
            let target = try paths.output(output)
            let format = try outputFormat(request, output: target, input: facts.type)
            let size = try await VipsImages.process(operation, input: input, output: target, format: format, quality: quality)
            return FileResult(items: [.init(input: input, output: target, bytes: fileSize(target), width: size.width, height: size.height, type: FileType.of(target))])
        }
        let inputs = try batchInputs(request)
        guard let folder = request.outputFolder else { throw FileProcessingError("a batch needs \"output_folder\"") }
        var items: [FileResult.Item] = []
        for input in inputs {
            try Task.checkCancellation()
            do {
                let facts = try await validate(input, expecting: .image)
                let format = try outputFormat(request, output: nil, input: facts.type)
                let name = ((input as NSString).lastPathComponent as NSString).deletingPathExtension + "." + (format == .jpeg ? "jpg" : format.rawValue)
                let target = try paths.output(folder + "/" + name)
                let size = try await VipsImages.process(operation, input: input, output: target, format: format, quality: quality)
                items.append(.init(input: input, output: target, bytes: fileSize(target), width: size.width, height: size.height, type: FileType.of(target)))
            } catch let error as FileProcessingError {
                items.append(.init(input: input, error: error.description))
            }
        }
        return try finished(items)
    }

    private func outputFormat(_ request: FileRequest, output: String?, input: FileType) throws -> VipsImages.Format {
        if let format = request.format, let chosen = VipsImages.Format(extension: format) { return chosen }
        if let output, let chosen = VipsImages.Format(extension: (output as NSString).pathExtension) { return chosen }
        switch input {
        case .png: return .png
        case .webp: return .webp
        default: return .jpeg
        }
    }

    // MARK: Documents and video

    private func extractText(_ request: FileRequest) async throws -> FileResult {
        guard let inputPath = request.input else { throw FileProcessingError("extract_text needs \"input\"") }
        let input = try paths.existing(inputPath)
        let facts = try await validate(input, expecting: .pdf)
        let hint = "text extraction needs pdftotext (Debian: apt-get install poppler-utils)"
        if let output = request.output {
            let target = try paths.output(output)
            _ = try await ExternalTools.run(configuration.pdftotext, ["-layout", "-enc", "UTF-8", input, target], installHint: hint, timeout: configuration.toolTimeout)
            return FileResult(items: [.init(input: input, output: target, bytes: fileSize(target), type: facts.type)])
        }
        let text = try await ExternalTools.run(
            configuration.pdftotext, ["-layout", "-enc", "UTF-8", input, "-"], installHint: hint, timeout: configuration.toolTimeout, outputLimit: 256 * 1024
        ).standardOutput
        return FileResult(items: [.init(input: input, type: facts.type)], text: text)
    }

    private func video(_ request: FileRequest) async throws -> FileResult {
        guard let inputPath = request.input, let outputPath = request.output else {
            throw FileProcessingError("\(request.operation.rawValue) needs \"input\" and \"output\"")
        }
        let input = try paths.existing(inputPath)
        _ = try await validate(input, expecting: .video)
        let target = try paths.output(outputPath)
        let container = (target as NSString).pathExtension.lowercased()
        var arguments = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", input]
        switch (request.operation, container) {
        case (.compressVideo, "mp4"), (.convertVideo, "mp4"):
            arguments += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "28", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart"]
        case (.convertVideo, "webm"):
            arguments += ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "36", "-deadline", "realtime", "-c:a", "libopus"]
        default:
            throw FileProcessingError("\(request.operation.rawValue) writes .mp4\(request.operation == .convertVideo ? " or .webm" : ""), not .\(container)")
        }
        arguments.append(target)
        _ = try await ExternalTools.run(
            configuration.ffmpeg, arguments, installHint: "video jobs need ffmpeg (Debian: apt-get install ffmpeg)", timeout: configuration.toolTimeout)
        return FileResult(items: [.init(input: input, output: target, bytes: fileSize(target), type: FileType.of(target))])
    }

    // MARK: Checks

    private enum Expected { case image, pdf, video }

    /// The file's type (by content), size and, for images, dimensions, checked against the limits.
    private func validate(_ path: String, expecting expected: Expected?) async throws -> FileFacts {
        let bytes = fileSize(path)
        guard bytes <= configuration.maximumBytes else {
            throw FileProcessingError("\((path as NSString).lastPathComponent) is \(bytes) bytes, more than the limit of \(configuration.maximumBytes)")
        }
        let type = FileType.of(path)
        var facts = FileFacts(path: path, type: type, bytes: bytes)
        switch expected {
        case .image? where !type.isImage, .pdf? where type != .pdf, .video? where !type.isVideo:
            throw FileProcessingError("\((path as NSString).lastPathComponent) is not \(expected == .image ? "an image" : expected == .pdf ? "a PDF" : "a video") (its content says \(type.rawValue))")
        default:
            break
        }
        if type == .unknown && expected == nil { throw FileProcessingError("\((path as NSString).lastPathComponent) is of no type this handler knows") }
        let suffix = (path as NSString).pathExtension.lowercased()
        if !suffix.isEmpty, type != .unknown, !type.extensions.contains(suffix) {
            throw FileProcessingError("\((path as NSString).lastPathComponent) is named .\(suffix) but its content is \(type.rawValue)")
        }
        if type.isImage {
            let size = try await VipsImages.dimensions(path)
            guard size.width <= configuration.maximumDimension, size.height <= configuration.maximumDimension else {
                throw FileProcessingError("\((path as NSString).lastPathComponent) is \(size.width)×\(size.height), more than \(configuration.maximumDimension) pixels a side")
            }
            (facts.width, facts.height) = (size.width, size.height)
        }
        return facts
    }

    private func batchInputs(_ request: FileRequest) throws -> [String] {
        var inputs: [String] = []
        if let input = request.input { inputs.append(try paths.existing(input)) }
        for input in request.inputs ?? [] { inputs.append(try paths.existing(input)) }
        if let folder = request.inputFolder {
            let resolved = try paths.existing(folder, what: "the folder")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: resolved)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = resolved + "/" + name
                if let attributes = try? FileManager.default.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular {
                    inputs.append(path)
                }
            }
        }
        guard !inputs.isEmpty else { throw FileProcessingError("\(request.operation.rawValue) needs \"input\", \"inputs\" or \"input_folder\"") }
        guard inputs.count <= configuration.maximumBatch else { throw FileProcessingError("a batch may have at most \(configuration.maximumBatch) files, not \(inputs.count)") }
        return inputs
    }

    private func finished(_ items: [FileResult.Item]) throws -> FileResult {
        if items.count > 1 || items.first?.error == nil, items.contains(where: { $0.error == nil }) { return FileResult(items: items) }
        throw FileProcessingError(items.count == 1 ? items[0].error! : "every file failed; the first: \(items.first?.error ?? "")")
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileProcessingError("\((path as NSString).lastPathComponent) cannot be written: \((error as NSError).localizedDescription)")
        }
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
