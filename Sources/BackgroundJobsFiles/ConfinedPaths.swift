import BackgroundJobsCore
import Foundation

/// The folders file jobs may read and write, and the check that keeps every path of a payload inside
/// them: `..` is refused outright, links are resolved (so one inside a root that points out is caught),
/// and an absolute path must lie in a root. A relative path is taken from the first root.
public struct ConfinedPaths: Sendable {
    /// The roots as given and as resolved (links followed), in order.
    private let roots: [(given: String, resolved: String)]

    /// Roots that exist as folders; one that does not is an error naming it.
    public init(roots: [String]) throws(FileProcessingError) {
        var checked: [(String, String)] = []
        for root in roots {
            guard root.hasPrefix("/") else { throw FileProcessingError("the file root \(root) is not an absolute path") }
            guard let resolved = Self.realPath(root) else { throw FileProcessingError("the file root \(root) does not exist") }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue, resolved != "/" else {
                throw FileProcessingError("the file root \(root) is not a folder that can be a root")
            }
            checked.append((root, resolved))
        }
        self.roots = checked
    }

    /// The resolved path of an existing file or folder named by a payload.
    public func existing(_ path: String, what: String = "the file") throws(FileProcessingError) -> String {
        let candidate = try candidate(path)
        guard let resolved = Self.realPath(candidate) else { throw FileProcessingError("\(what) \(display(path)) does not exist") }
        try require(inside: resolved, path)
        return resolved
    }

    /// The path a result may be written to: its folder is created inside a root when missing; the file
    /// itself may exist (it is replaced) but not as a link.
    public func output(_ path: String) throws(FileProcessingError) -> String {
        let candidate = try candidate(path)
        let name = (candidate as NSString).lastPathComponent
        guard !name.isEmpty, name != ".", name != ".." else { throw FileProcessingError("the output \(display(path)) names no file") }
        // The nearest folder that exists decides where the new ones go.
        var ancestor = (candidate as NSString).deletingLastPathComponent
        var missing: [String] = []
        while Self.realPath(ancestor) == nil && ancestor != "/" {
            missing.insert((ancestor as NSString).lastPathComponent, at: 0)
            ancestor = (ancestor as NSString).deletingLastPathComponent
        }
        guard let resolvedAncestor = Self.realPath(ancestor) else { throw FileProcessingError("the output \(display(path)) has no folder") }
        let folder = missing.reduce(resolvedAncestor) { $0 + "/" + $1 }
        let resolved = folder + "/" + name
        try require(inside: resolved, path)
        if let attributes = try? FileManager.default.attributesOfItem(atPath: resolved), attributes[.type] as? FileAttributeType == .typeSymbolicLink {
            throw FileProcessingError("the output \(display(path)) is a link, which is not written through")
        }
        if !missing.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw FileProcessingError("the folder of the output \(display(path)) cannot be created")
            }
        }
        return resolved
    }

    private func candidate(_ path: String) throws(FileProcessingError) -> String {
        guard !path.isEmpty, !path.contains("\u{0}") else { throw FileProcessingError("an empty path, or one with a NUL byte, is refused") }
        guard !path.split(separator: "/").contains("..") else { throw FileProcessingError("the path \(display(path)) contains .., which is refused") }
        guard let first = roots.first else { throw FileProcessingError("no file roots are configured, so no path is allowed") }
        return path.hasPrefix("/") ? path : first.resolved + "/" + path
    }

    private func require(inside resolved: String, _ given: String) throws(FileProcessingError) {
        guard roots.contains(where: { resolved == $0.resolved || resolved.hasPrefix($0.resolved + "/") }) else {
            throw FileProcessingError("the path \(display(given)) is outside the file roots (\(roots.map(\.given).joined(separator: ", ")))")
        }
    }

    private func display(_ path: String) -> String { String(path.prefix(200)).debugDescription }

    /// The path with every link resolved, or `nil` when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
