import Foundation

/// One entry met walking a cleanup root: never followed through a symbolic link.
struct FileEntry {
    enum Kind { case file, directory, symbolicLink, other }

    var path: String
    var kind: Kind
    var size: Int
    var modified: Date
}

/// Walking cleanup roots without leaving them: symbolic links are reported as links, never followed, so
/// a link inside a root that points elsewhere cannot lead cleanup out of it.
enum FileWalk {
    /// The root as an absolute path without a trailing slash, or an error line when it cannot be one.
    static func checkedRoot(_ root: String) -> Result<String, CleanupError> {
        guard root.hasPrefix("/") else { return .failure(CleanupError("the cleanup root \(root) is not an absolute path")) }
        let standardized = (root as NSString).standardizingPath
        guard standardized != "/" else { return .failure(CleanupError("the cleanup root / is refused: it would be the whole file system")) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: standardized, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(CleanupError("the cleanup root \(standardized) is not a directory"))
        }
        return .success(standardized)
    }

    /// Calls `body` with each root that passes ``checkedRoot(_:)``; a root that does not is an error line.
    static func eachRoot(_ roots: [String], into section: inout CleanupReport.Section, _ body: (String, inout CleanupReport.Section) -> Void) {
        for root in roots {
            switch checkedRoot(root) {
            case .success(let checked): body(checked, &section)
            case .failure(let error): section.errors.append(error.description)
            }
        }
    }

    /// The entry at `path`, as `lstat` sees it.
    static func entry(_ path: String) -> FileEntry? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let kind: FileEntry.Kind
        switch attributes[.type] as? FileAttributeType {
        case .typeRegular?: kind = .file
        case .typeDirectory?: kind = .directory
        case .typeSymbolicLink?: kind = .symbolicLink
        default: kind = .other
        }
        return FileEntry(
            path: path, kind: kind, size: (attributes[.size] as? NSNumber)?.intValue ?? 0,
            modified: attributes[.modificationDate] as? Date ?? Date.distantFuture)
    }

    /// Calls `visit` for every entry under `root`, children before their directory (so a directory's
    /// contents are dealt with before it is looked at itself), the root itself excluded.
    static func walk(_ root: String, _ visit: (FileEntry) -> Void) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names.sorted() {
            let path = root + "/" + name
            guard let entry = entry(path) else { continue }
            if entry.kind == .directory { walk(path, visit) }
            visit(entry)
        }
    }
}

/// A cleanup that cannot go on at all (a bad root, a store that fails); one item that cannot be
/// handled is an error line in the report instead.
public struct CleanupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
