import Foundation
import Subprocess
import SystemPackage

/// `pdftotext` and `ffmpeg`, run as child processes with their output bounded and their run time limited.
enum ExternalTools {
    struct Output {
        var standardOutput: String
        var standardError: String
    }

    /// Runs `tool` (a name found on `PATH`, or a path); a missing tool is a ``FileProcessingError`` that
    /// says how to install it. A nonzero exit is one with the tool's last error line.
    static func run(_ tool: String, _ arguments: [String], installHint: String, timeout: Duration, outputLimit: Int = 1 << 20) async throws -> Output {
        let executable: Executable = tool.contains("/") ? .path(FilePath(tool)) : .name(tool)
        do {
            return try await withThrowingTaskGroup(of: Output?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        executable, arguments: Arguments(arguments), output: .string(limit: outputLimit), error: .string(limit: 64 * 1024))
                    let output = Output(standardOutput: result.standardOutput, standardError: result.standardError)
                    guard case .exited(0) = result.terminationStatus else {
                        let last = output.standardError.split(separator: "\n").last.map(String.init) ?? "no message"
                        throw FileProcessingError("\(tool) failed (\(result.terminationStatus)): \(last)")
                    }
                    return output
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                guard let first = try await group.next(), let output = first else {
                    group.cancelAll()
                    throw FileProcessingError("\(tool) did not finish within \(timeout)")
                }
                group.cancelAll()
                return output
            }
        } catch let error as FileProcessingError {
            throw error
        } catch let error as SubprocessError where error.code == .executableNotFound {
            throw FileProcessingError("\(tool) is not installed; \(installHint)")
        }
    }
}
