import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local HTTP server for tests: records every request and answers as `respond` says.
final class TestHTTPServer: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var body: String = ""
        /// How long to wait before answering.
        var delay: Duration = .zero
    }

    private let channel: any Channel
    private let box: Recorded
    let port: Int

    /// A server on a free loopback port; call ``shutdown()`` when done.
    init(respond: @escaping @Sendable (Request) -> Response) async throws {
        let box = Recorded()
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(record: { box.append($0) }, respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.port = channel.localAddress?.port ?? 0
        self.box = box
    }

    var requests: [Request] { box.all }

    func shutdown() async throws {
        try await channel.close()
    }

    private final class Recorded: Sendable {
        let storage = Mutex<[Request]>([])
        func append(_ request: Request) { storage.withLock { $0.append(request) } }
        var all: [Request] { storage.withLock { $0 } }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // One channel's handler, used only on its event loop: the state needs no lock.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let record: @Sendable (Request) -> Void
        let respond: @Sendable (Request) -> Response
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(record: @escaping @Sendable (Request) -> Void, respond: @escaping @Sendable (Request) -> Response) {
            self.record = record
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(method: head.method, uri: head.uri, headers: head.headers, body: body)
                record(request)
                let response = respond(request)
                let (seconds, attoseconds) = response.delay.components
                let delay = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: delay) {
                    let (handler, context) = loopBound.value
                    handler.write(response, version: head.version, context: context)
                }
            }
        }

        private func write(_ response: Response, version: HTTPVersion, context: ChannelHandlerContext) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(response.body.utf8.count))
            headers.add(name: "Content-Type", value: "text/plain")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
