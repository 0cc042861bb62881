import BackgroundJobsCore
import BackgroundJobsDomain
import BackgroundJobsPrometheus
import Foundation
import Prometheus
import Testing

@Suite("Grafana dashboard")
struct DashboardTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("every panel's query uses metrics the server exports")
    func queriesUseExportedMetrics() throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("configs/grafana/dashboards/background-jobs-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(panels.count >= 6)
        #expect(expressions.count >= panels.count)

        // Every metric the adapter makes, recorded once, as Prometheus would scrape it.
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusJobMetrics(registry: registry)
        let job = Job(id: JobID.generate(at: Date()), name: "t", payload: [], options: JobOptions(), maxRetries: 1, createdAt: Date())
        metrics.jobEnqueued(job)
        metrics.jobStarted(job, waited: .milliseconds(1))
        metrics.jobFinished(job, status: .failed, duration: .milliseconds(1))
        metrics.workersBusy(1, of: 2)
        metrics.queueSize(.default, priority: "low", state: "ready", 1)
        metrics.activeWorkers(1)
        let exported = Set(
            registry.emitToString().split(separator: "\n").filter { !$0.hasPrefix("#") }
                .compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })

        let pattern = /background_jobs_[a-z_]+/
        var used: Set<String> = []
        for expression in expressions {
            for match in expression.matches(of: pattern) { used.insert(String(match.output)) }
        }
        #expect(!used.isEmpty)
        for name in used.sorted() {
            #expect(exported.contains(name), "the dashboard queries \(name), which the server does not export")
        }
        // The panels the seed names are there.
        let titles = panels.compactMap { $0["title"] as? String }.joined(separator: " | ")
        for topic in ["processing rate", "Queue sizes by priority", "utilisation", "Processing time", "Wait", "Error rate by job type"] {
            #expect(titles.localizedCaseInsensitiveContains(topic), "no panel about \(topic)")
        }
    }
}
