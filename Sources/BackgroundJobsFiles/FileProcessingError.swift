/// A file job that cannot succeed as asked (a path outside the roots, a file that is not what it claims,
/// a tool that is missing): it fails for good with this reason.
public struct FileProcessingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
