import ArgumentParser
import BackgroundJobs
import BackgroundJobsHandlers
import BackgroundJobsServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// The demo server: the jobs HTTP API and the workers in one process, or either alone.
@main
struct DemoServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "BackgroundJobsDemo", abstract: "Runs the BackgroundJobs HTTP API and workers against REDIS_URL.")

    @Option(help: "What this process runs: api, worker or all.")
    var role: JobSystem.Role = .all

    @Option(help: "The HTTP port (api and all).")
    var port: Int = 8080

    @Option(help: "The address to listen on.")
    var hostname: String = "127.0.0.1"

    @Option(help: "The YAML configuration; environment variables (REDIS_URL, JOBS_WORKER_COUNT, ...) override it.")
    var config: String = "configs/jobs.yaml"

    @Flag(help: "Also register seed 000's simulated workloads (data_analysis, report_generation, email_campaign, backup).")
    var simulations = false

    @Flag(help: "Also register the fault suite's job types (chaos_count, chaos_hang, chaos_crash; see scripts/chaos).")
    var chaosJobs = false

    func run() async throws {
        var logger = Logger(label: "background-jobs-demo")
        logger.logLevel = .info
        let configuration: JobSystemConfiguration
        let handlerConfiguration: BuiltInHandlers.Configuration
        do {
            let yaml = try String(contentsOfFile: config, encoding: .utf8)
            let environment = ProcessInfo.processInfo.environment
            configuration = try JobSystemConfiguration(yaml: yaml, source: config).applyingEnvironment(environment)
            handlerConfiguration = try BuiltInHandlers.Configuration(yaml: yaml, source: config, environment: environment)
        } catch let error as ConfigurationError {
            throw ValidationError(error.message)
        } catch {
            throw ValidationError("cannot read \(config): \(error)")
        }
        var registry = JobRegistry()
        DemoJobs.register(into: &registry)
        if simulations { DemoJobs.registerSimulations(into: &registry) }
        if chaosJobs { try ChaosJobs.register(into: &registry, configuration: configuration, logger: logger) }
        // The built-in handlers (email, file_processing, cleanup, notification) need the queue: added once it exists.
        var builtIns: BuiltInHandlers?
        let system = try JobSystem.live(configuration: configuration, registry: registry, role: role, logger: logger) { registry, queue in
            let handlers = try BuiltInHandlers(configuration: handlerConfiguration, queue: queue, logger: logger)
            handlers.register(into: &registry)
            builtIns = handlers
        }
        if role != .api && configuration.scheduler.enabled {
            try await system.installSchedules()
        }

        // The handlers first: the group stops services in reverse, so they close after the pool stops.
        var services: [any Service] = builtIns.map { [$0] } ?? []
        services += system.services
        if role != .worker {
            let token = ProcessInfo.processInfo.environment["JOBS_API_TOKEN"]
            let app = Application(
                router: JobsServer.router(system: system, token: token),
                configuration: .init(address: .hostname(hostname, port: port), serverName: "BackgroundJobs"), logger: logger)
            services.append(app)
            let banner = """
                BackgroundJobs demo: http://\(hostname):\(port)  (role \(role.rawValue), Redis \(configuration.redis.effectiveURL))
                  submit:  curl -s -X POST http://\(hostname):\(port)/jobs -H 'content-type: application/json' \\
                             -d '{"type": "reverse_string", "payload": {"text": "hello"}}'
                  inspect: curl -s http://\(hostname):\(port)/jobs/<id>      queues: curl -s http://\(hostname):\(port)/queues
                  metrics: http://\(hostname):\(port)/metrics   health: /health/jobs, /health/queues, /health/workers
                  built-in job types: \(builtIns?.jobNames.joined(separator: ", ") ?? "none") (payloads: docs/handlers.md)
                Ctrl-C stops it.
                """
            // Written at once, not buffered: `make demo` shows it before the first log line.
            FileHandle.standardOutput.write(Data((banner + "\n").utf8))
        }
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await system.shutdown()
            throw error
        }
        await system.shutdown()
    }
}

extension JobSystem.Role: ExpressibleByArgument {}
