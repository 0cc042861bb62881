import Foundation

/// What a file is, by its first bytes (never by its name).
public enum FileType: String, Codable, Sendable, CaseIterable {
    case jpeg, png, webp, gif, tiff, pdf, mp4, webm, unknown

    /// Whether libvips handles it as an image here.
    public var isImage: Bool { [.jpeg, .png, .webp, .gif, .tiff].contains(self) }
    public var isVideo: Bool { self == .mp4 || self == .webm }

    /// The usual file name extensions.
    var extensions: [String] {
        switch self {
        case .jpeg: ["jpg", "jpeg"]
        case .png: ["png"]
        case .webp: ["webp"]
        case .gif: ["gif"]
        case .tiff: ["tif", "tiff"]
        case .pdf: ["pdf"]
        case .mp4: ["mp4", "m4v", "mov"]
        case .webm: ["webm", "mkv"]
        case .unknown: []
        }
    }

    /// The type of the bytes `head` (the first 16 of a file are enough).
    public static func detect(_ head: [UInt8]) -> FileType {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("%PDF-".utf8)) { return .pdf }
        if starts(Array("ftyp".utf8), at: 4) { return .mp4 }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .webm }
        return .unknown
    }

    /// The type of the file at `path`.
    static func of(_ path: String) -> FileType {
        guard let handle = FileHandle(forReadingAtPath: path) else { return .unknown }
        defer { try? handle.close() }
        return detect(Array((try? handle.read(upToCount: 16)) ?? Data()))
    }
}

/// What validating a file found.
public struct FileFacts: Codable, Sendable, Hashable {
    public var path: String
    public var type: FileType
    public var bytes: Int
    public var width: Int?
    public var height: Int?
}
