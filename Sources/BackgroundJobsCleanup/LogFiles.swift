import Foundation

/// Log maintenance under the log roots, in three steps:
///
/// 1. delete log files not changed within the retention (compressed or not; an active `*.log` too);
/// 2. compress `*.log` and rotated `*.log.N` files not changed within the compression age: a log
///    nobody wrote to for that long is closed;
/// 3. rotate each remaining `*.log` over the size limit: `app.log.N` → `app.log.N+1` (and `.gz`),
///    `app.log` → `app.log.1`, and a new empty `app.log` with the same permissions. As with logrotate's
///    default (no `copytruncate`), the writer must reopen its file to write to the new one; until then it
///    goes on writing into `app.log.1`, and nothing is lost.
enum LogFiles {
    /// What a file's name says it is.
    enum Role: Equatable {
        /// `name.log`.
        case active(base: String)
        /// `name.log.N`.
        case rotated(base: String, number: Int)
        /// `name.log.gz` or `name.log.N.gz`.
        case compressed
    }

    static func role(of path: String) -> Role? {
        if path.hasSuffix(".log") { return .active(base: path) }
        if path.hasSuffix(".gz") {
            let inner = String(path.dropLast(3))
            return inner.hasSuffix(".log") || rotatedParts(inner) != nil ? .compressed : nil
        }
        return rotatedParts(path).map { .rotated(base: $0.base, number: $0.number) }
    }

    private static func rotatedParts(_ path: String) -> (base: String, number: Int)? {
        guard let dot = path.lastIndex(of: "."), let number = Int(path[path.index(after: dot)...]), number > 0 else { return nil }
        let base = String(path[..<dot])
        return base.hasSuffix(".log") ? (base, number) : nil
    }

    struct Ages {
        var compressBefore: Date
        var deleteBefore: Date
        var rotationSize: Int
    }

    static func clean(roots: [String], ages: Ages, dryRun: Bool, limit: Int, into section: inout CleanupReport.Section) {
        FileWalk.eachRoot(roots, into: &section) { root, section in
            var logs: [FileEntry] = []
            FileWalk.walk(root) { entry in
                if entry.kind == .file, role(of: entry.path) != nil { logs.append(entry) }
            }
            var kept: [FileEntry] = []
            for entry in logs {
                if entry.modified < ages.deleteBefore && section.deleted < limit {
                    section.remove(entry, dryRun: dryRun)
                } else {
                    kept.append(entry)
                }
            }
            var active: [FileEntry] = []
            for entry in kept {
                switch role(of: entry.path) {
                case .active?, .rotated?:
                    if entry.modified < ages.compressBefore && section.compressed < limit {
                        compress(entry, dryRun: dryRun, into: &section)
                    } else if case .active? = role(of: entry.path) {
                        active.append(entry)
                    }
                default:
                    break
                }
            }
            for entry in active where entry.size > ages.rotationSize && section.rotated < limit {
                rotate(entry, dryRun: dryRun, into: &section)
            }
        }
    }

    private static func compress(_ entry: FileEntry, dryRun: Bool, into section: inout CleanupReport.Section) {
        guard !FileManager.default.fileExists(atPath: entry.path + ".gz") else {
            section.errors.append("not compressing \(entry.path): \(entry.path).gz exists already")
            return
        }
        if !dryRun {
            do {
                let compressedSize = try GzipFile.compress(entry.path)
                section.bytesFreed += max(0, entry.size - compressedSize)
            } catch {
                section.errors.append("could not compress \(entry.path): \(error)")
                return
            }
        }
        section.compressed += 1
        section.note("compress \(entry.path)", dryRun: dryRun)
    }

    private static func rotate(_ entry: FileEntry, dryRun: Bool, into section: inout CleanupReport.Section) {
        let base = entry.path
        let directory = (base as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        // Existing rotations, the highest first, so each rename has a free name to go to.
        let numbers = names.compactMap { name -> Int? in
            let path = directory + "/" + name
            let unzipped = path.hasSuffix(".gz") ? String(path.dropLast(3)) : path
            guard case .rotated(let owner, let number)? = role(of: unzipped), owner == base else { return nil }
            return number
        }
        if !dryRun {
            do {
                for number in Set(numbers).sorted(by: >) {
                    for suffix in ["", ".gz"] where FileManager.default.fileExists(atPath: "\(base).\(number)\(suffix)") {
                        try FileManager.default.moveItem(atPath: "\(base).\(number)\(suffix)", toPath: "\(base).\(number + 1)\(suffix)")
                    }
                }
                let permissions = (try? FileManager.default.attributesOfItem(atPath: base))?[.posixPermissions]
                try FileManager.default.moveItem(atPath: base, toPath: base + ".1")
                if !FileManager.default.createFile(atPath: base, contents: nil, attributes: permissions.map { [.posixPermissions: $0] }) {
                    section.errors.append("rotated \(base), but could not create a new empty one in its place")
                }
            } catch {
                section.errors.append("could not rotate \(base): \((error as NSError).localizedDescription)")
                return
            }
        }
        section.rotated += 1
        section.note("rotate \(base)", dryRun: dryRun)
    }
}
