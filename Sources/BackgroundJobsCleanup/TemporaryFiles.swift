import Foundation

/// Deletes files under the temporary roots that were not changed since `cutoff`, and the directories
/// that leaves empty (the roots themselves stay). A symbolic link is deleted as a link, its target left.
enum TemporaryFiles {
    static func clean(roots: [String], changedBefore cutoff: Date, dryRun: Bool, limit: Int, into section: inout CleanupReport.Section) {
        FileWalk.eachRoot(roots, into: &section) { root, section in
            FileWalk.walk(root) { entry in
                guard section.deleted < limit, entry.modified < cutoff else { return }
                switch entry.kind {
                case .file, .symbolicLink:
                    section.remove(entry, dryRun: dryRun)
                case .directory:
                    // Only when empty (its old contents went just before, children come first).
                    let empty = (try? FileManager.default.contentsOfDirectory(atPath: entry.path).isEmpty) ?? false
                    if empty || (dryRun && section.wouldEmpty(entry.path)) { section.remove(entry, dryRun: dryRun) }
                case .other:
                    break
                }
            }
        }
    }
}

extension CleanupReport.Section {
    /// Deletes `entry` (or in a dry run notes that it would); a failure is an error line.
    mutating func remove(_ entry: FileEntry, dryRun: Bool) {
        if !dryRun {
            do {
                try FileManager.default.removeItem(atPath: entry.path)
            } catch {
                errors.append("could not delete \(entry.path): \((error as NSError).localizedDescription)")
                return
            }
        }
        deleted += 1
        if entry.kind == .file { bytesFreed += entry.size }
        note("delete \(entry.path)", dryRun: dryRun)
    }

    /// In a dry run nothing is deleted, so a directory is "empty" if everything in it would be.
    func wouldEmpty(_ directory: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.allSatisfy { actions.contains("delete \(directory)/\($0)") }
    }

    mutating func note(_ action: String, dryRun: Bool) {
        if dryRun || actions.count < 1000 { actions.append(action) }
    }
}
