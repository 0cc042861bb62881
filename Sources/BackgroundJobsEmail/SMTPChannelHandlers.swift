import NIOCore

/// One SMTP reply: its code and its lines (a multi-line reply is `250-...` lines ending in `250 ...`).
struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]

    var text: String { lines.joined(separator: " ") }
}

/// Splits the bytes from the server into replies.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var lines: [String] = []

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 16 * 1024 { throw EmailError(.protocolError, "the SMTP server sent a line of over 16 KiB") }
            return .needMoreData
        }
        let bytes = buffer.readBytes(length: newline - view.startIndex + 1) ?? []
        let line = String(decoding: bytes.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        guard line.utf8.count >= 3, let code = Int(line.prefix(3)), (200..<600).contains(code) else {
            throw EmailError(.protocolError, "the SMTP server sent \(String(line.prefix(80)).debugDescription), which is not an SMTP reply")
        }
        let continues = line.utf8.count > 3 && line.utf8[line.utf8.index(line.utf8.startIndex, offsetBy: 3)] == UInt8(ascii: "-")
        lines.append(line.utf8.count > 4 ? String(line.dropFirst(4)) : "")
        if !continues {
            context.fireChannelRead(NIOAny(SMTPReply(code: code, lines: lines)))
            lines = []
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }
}

/// Hands replies to the commands waiting for them, in order. Used on its channel's event loop only.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = SMTPReply

    private struct Waiter {
        let promise: EventLoopPromise<SMTPReply>
        let timer: Scheduled<Void>
    }

    private var waiting = CircularBuffer<Waiter>()
    /// Replies that came before anyone waited (the greeting may).
    private var early = CircularBuffer<SMTPReply>()
    private var failure: (any Error)?
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Waits up to `timeout` for the next reply; `promise` fails if the connection breaks first. At the
    /// timeout the connection is closed: the session's state is unknown after a missing reply.
    func expect(_ promise: EventLoopPromise<SMTPReply>, timeout: TimeAmount, what: String) {
        if let reply = early.popFirst() {
            promise.succeed(reply)
            return
        }
        if let failure {
            promise.fail(failure)
            return
        }
        guard let context else {
            promise.fail(EmailError(.connection, "the SMTP connection is closed"))
            return
        }
        let timer = context.eventLoop.scheduleTask(in: timeout) { [weak self] in
            self?.fail(EmailError(.timeout, "the SMTP server did not answer \(what) in time"))
            self?.context?.close(promise: nil)
        }
        waiting.append(Waiter(promise: promise, timer: timer))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let waiter = waiting.popFirst() {
            waiter.timer.cancel()
            waiter.promise.succeed(reply)
        } else {
            early.append(reply)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(EmailError(.connection, "the SMTP server closed the connection"))
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        while let waiter = waiting.popFirst() {
            waiter.timer.cancel()
            waiter.promise.fail(failure!)
        }
    }
}
