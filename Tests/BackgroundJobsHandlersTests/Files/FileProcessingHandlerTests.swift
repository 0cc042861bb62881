import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsFiles
import Foundation
import Testing

@Suite("File processing jobs", .timeLimit(.minutes(3)))
struct FileProcessingHandlerTests {
    /// A real image (or video) made by ffmpeg's test source.
    static func makeMedia(_ path: String, size: String = "640x480", video: Bool = false, quality: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var arguments = ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=\(size):rate=10\(video ? ":duration=1" : "")"]
        arguments += video ? ["-pix_fmt", "yuv420p"] : ["-frames:v", "1"]
        if let quality { arguments += ["-q:v", "\(quality)"] }
        arguments.append(path)
        guard try run("/usr/bin/ffmpeg", arguments).status == 0 else { throw TestFailure("ffmpeg could not make \(path)") }
    }

    static func head(_ path: String) -> [UInt8] {
        Array((FileHandle(forReadingAtPath: path)?.readData(ofLength: 16)) ?? Data())
    }

    static func handler(_ root: String, _ configure: (inout FileProcessingHandler.Configuration) -> Void = { _ in }) throws -> FileProcessingHandler {
        var configuration = FileProcessingHandler.Configuration(roots: [root])
        configure(&configuration)
        return try FileProcessingHandler(configuration: configuration)
    }

    /// The outcome of the payload run as a job.
    static func outcome(_ handler: FileProcessingHandler, _ payload: String) async throws -> JobOutcome {
        var registry = JobRegistry()
        handler.register(into: &registry)
        let job = Job(id: JobID.generate(at: Date()), name: "file_processing", payload: Array(payload.utf8), options: JobOptions(), maxRetries: 3, createdAt: Date())
        return try await registry.run(JobContext(job: job, logger: TestRedis.logger))
    }

    @Test("thumbnail, resize, convert and optimize make real images of the asked size and format")
    func images() async throws {
        try await withTemporaryDirectory { root in
            try Self.makeMedia(root + "/in/photo.png")
            try Self.makeMedia(root + "/in/photo.jpg", quality: 2)
            let handler = try Self.handler(root)

            var thumbnail = FileRequest(operation: .thumbnail, input: "in/photo.png", output: "out/thumb.webp")
            thumbnail.width = 128
            let thumb = try await handler.run(thumbnail).items[0]
            #expect((thumb.width, thumb.height) == (128, 96))
            #expect(thumb.type == .webp && FileType.detect(Self.head(root + "/out/thumb.webp")) == .webp)
            #expect(thumb.output == root + "/out/thumb.webp")

            var cropped = FileRequest(operation: .thumbnail, input: "in/photo.png", output: "out/square.jpg")
            (cropped.width, cropped.height, cropped.crop) = (100, 100, true)
            let square = try await handler.run(cropped).items[0]
            #expect((square.width, square.height) == (100, 100))
            #expect(FileType.detect(Self.head(root + "/out/square.jpg")) == .jpeg)

            var resize = FileRequest(operation: .resize, input: "in/photo.jpg", output: "out/half.png")
            resize.width = 320
            let half = try await handler.run(resize).items[0]
            #expect((half.width, half.height) == (320, 240))
            #expect(FileType.detect(Self.head(root + "/out/half.png")) == .png)

            var convert = FileRequest(operation: .convert, input: "in/photo.png", output: "out/converted")
            convert.format = "jpeg"
            let converted = try await handler.run(convert).items[0]
            #expect(converted.type == .jpeg && (converted.width, converted.height) == (640, 480))

            var optimize = FileRequest(operation: .optimize, input: "in/photo.jpg", output: "out/small.jpg")
            optimize.quality = 30
            let small = try await handler.run(optimize).items[0]
            let original = try #require(try FileManager.default.attributesOfItem(atPath: root + "/in/photo.jpg")[.size] as? Int)
            #expect(small.bytes ?? .max < original, "\(small.bytes ?? 0) bytes against \(original)")
        }
    }

    @Test("a batch over a folder handles every image, records the one that is not, and completes")
    func batch() async throws {
        try await withTemporaryDirectory { root in
            for name in ["a.png", "b.jpg", "c.png"] { try Self.makeMedia(root + "/uploads/\(name)", size: "200x100") }
            try writeFile(root + "/uploads/not-really.png", "this is text")
            let handler = try Self.handler(root)
            let payload = #"{"operation": "resize", "input_folder": "uploads", "output_folder": "web", "width": 50, "format": "webp"}"#
            guard case .completed(let bytes?) = try await Self.outcome(handler, payload) else { Issue.record("not completed"); return }
            let result = try JSONDecoder().decode(FileResult.self, from: Data(bytes))
            #expect(result.items.count == 4)
            #expect(result.items.filter { $0.error == nil }.map { ($0.output! as NSString).lastPathComponent } == ["a.webp", "b.webp", "c.webp"])
            #expect(result.items.filter { $0.error == nil }.allSatisfy { $0.width == 50 && $0.height == 25 })
            let failed = try #require(result.items.first { $0.error != nil })
            #expect(failed.error == "not-really.png is not an image (its content says unknown)")
            #expect(!fileExists(root + "/web/not-really.webp"))
        }
    }

    @Test("validation goes by content, size and dimensions, never by the name")
    func validation() async throws {
        try await withTemporaryDirectory { root in
            try Self.makeMedia(root + "/big.png", size: "800x600")
            try Self.makeMedia(root + "/ok.png", size: "80x60")
            try FileManager.default.copyItem(atPath: root + "/ok.png", toPath: root + "/disguised.jpg")
            let handler = try Self.handler(root) { $0.maximumDimension = 500 }
            let facts = try await handler.run(FileRequest(operation: .validate, input: "ok.png")).items[0]
            #expect(facts.type == .png && (facts.width, facts.height) == (80, 60) && facts.error == nil)
            for (file, reason) in [
                ("big.png", "big.png is 800×600, more than 500 pixels a side"),
                ("disguised.jpg", "disguised.jpg is named .jpg but its content is png"),
            ] {
                guard case .failed(let message, false) = try await Self.outcome(handler, #"{"operation": "validate", "input": "\#(file)"}"#) else {
                    Issue.record("\(file) should fail for good")
                    continue
                }
                #expect(message == reason)
            }
            let tiny = try Self.handler(root) { $0.maximumBytes = 100 }
            guard case .failed(let message, false) = try await Self.outcome(tiny, #"{"operation": "validate", "input": "ok.png"}"#) else {
                Issue.record("too big should fail")
                return
            }
            #expect(message.hasPrefix("ok.png is ") && message.hasSuffix("bytes, more than the limit of 100"))
        }
    }

    @Test("paths stay inside the roots: .., absolute paths elsewhere and links out are refused with a clear error")
    func confinement() async throws {
        try await withTemporaryDirectory { base in
            let root = base + "/files"
            try Self.makeMedia(root + "/in.png", size: "64x48")
            try Self.makeMedia(base + "/secret/private.png", size: "64x48")
            try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: base + "/secret")
            try FileManager.default.createSymbolicLink(atPath: root + "/private-link.png", withDestinationPath: base + "/secret/private.png")
            let handler = try Self.handler(root)
            let cases: [(String, String)] = [
                (#"{"operation": "validate", "input": "../secret/private.png"}"#, #"the path "../secret/private.png" contains .., which is refused"#),
                (#"{"operation": "validate", "input": "/etc/passwd"}"#, #"the path "/etc/passwd" is outside the file roots (\#(root))"#),
                (#"{"operation": "validate", "input": "escape/private.png"}"#, #"the path "escape/private.png" is outside the file roots (\#(root))"#),
                (#"{"operation": "validate", "input": "private-link.png"}"#, #"the path "private-link.png" is outside the file roots (\#(root))"#),
                (#"{"operation": "thumbnail", "input": "in.png", "output": "escape/stolen.jpg", "width": 10}"#, #"the path "escape/stolen.jpg" is outside the file roots (\#(root))"#),
                (#"{"operation": "thumbnail", "input": "in.png", "output": "\#(base)/elsewhere.jpg", "width": 10}"#, #"the path "\#(base)/elsewhere.jpg" is outside the file roots (\#(root))"#),
                (#"{"operation": "validate", "input": "nothing-here.png"}"#, #"the file "nothing-here.png" does not exist"#),
            ]
            for (payload, expected) in cases {
                guard case .failed(let reason, false) = try await Self.outcome(handler, payload) else { Issue.record("\(payload) should fail"); continue }
                #expect(reason == expected)
            }
            #expect(!fileExists(base + "/secret/stolen.jpg") && !fileExists(base + "/elsewhere.jpg"))
            #expect(throws: FileProcessingError.self) { try FileProcessingHandler(configuration: .init(roots: [base + "/missing"])) }
        }
    }

    @Test("a generated PDF report reads back with pdftotext, into the result or a file")
    func pdfRoundTrip() async throws {
        try await withTemporaryDirectory { root in
            let handler = try Self.handler(root)
            var report = FileRequest(operation: .generatePDF, output: "reports/daily.pdf")
            report.title = "Daily report (December)"
            report.lines = ["Jobs completed: 1204", "Failed: 3 \\ retried: 2", "Grüße aus Köln"] + (1...60).map { "line \($0)" }
            let made = try await handler.run(report).items[0]
            #expect(made.type == .pdf && FileType.detect(Self.head(root + "/reports/daily.pdf")) == .pdf)

            let extracted = try await handler.run(FileRequest(operation: .extractText, input: "reports/daily.pdf"))
            let text = try #require(extracted.text)
            for expected in ["Daily report (December)", "Jobs completed: 1204", "Failed: 3 \\ retried: 2", "Grüße aus Köln", "line 1", "line 60"] {
                #expect(text.contains(expected), "missing \(expected)")
            }
            #expect(text.components(separatedBy: "\u{0C}").count >= 2, "63 lines fill two pages")

            let toFile = try await handler.run(FileRequest(operation: .extractText, input: "reports/daily.pdf", output: "reports/daily.txt"))
            #expect(toFile.text == nil)
            #expect(try String(contentsOfFile: root + "/reports/daily.txt", encoding: .utf8).contains("Grüße aus Köln"))
        }
    }

    @Test("videos are compressed to MP4 and converted to WebM with ffmpeg; a missing tool fails for good, saying what to install")
    func videoAndMissingTools() async throws {
        try await withTemporaryDirectory { root in
            try Self.makeMedia(root + "/clip.mp4", size: "160x120", video: true)
            let handler = try Self.handler(root)
            let mp4 = try await handler.run(FileRequest(operation: .compressVideo, input: "clip.mp4", output: "web/clip.mp4")).items[0]
            #expect(mp4.type == .mp4 && (mp4.bytes ?? 0) > 0)
            let webm = try await handler.run(FileRequest(operation: .convertVideo, input: "clip.mp4", output: "web/clip.webm")).items[0]
            #expect(webm.type == .webm && FileType.detect(Self.head(root + "/web/clip.webm")) == .webm)

            let noFFmpeg = try Self.handler(root) { $0.ffmpeg = "/nonexistent/ffmpeg" }
            guard case .failed(let video, false) = try await Self.outcome(noFFmpeg, #"{"operation": "compress_video", "input": "clip.mp4", "output": "x.mp4"}"#) else {
                Issue.record("a missing ffmpeg should fail for good")
                return
            }
            #expect(video == "/nonexistent/ffmpeg is not installed; video jobs need ffmpeg (Debian: apt-get install ffmpeg)")

            var report = FileRequest(operation: .generatePDF, output: "r.pdf")
            report.lines = ["x"]
            _ = try await handler.run(report)
            let noPdftotext = try Self.handler(root) { $0.pdftotext = "/nonexistent/pdftotext" }
            guard case .failed(let text, false) = try await Self.outcome(noPdftotext, #"{"operation": "extract_text", "input": "r.pdf"}"#) else {
                Issue.record("a missing pdftotext should fail for good")
                return
            }
            #expect(text == "/nonexistent/pdftotext is not installed; text extraction needs pdftotext (Debian: apt-get install poppler-utils)")
        }
    }
}
