using EdgeStream.Common.Metrics;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Kafka.Server;
using EdgeStream.Mqtt;
using EdgeStream.Storage;
using EdgeStream.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EdgeStream.Hosting.Metrics;

/// <summary>
/// Wires the meters into OpenTelemetry's Prometheus exporter and serves <c>GET /metrics</c> on the HTTP
/// listener. Every EdgeStream library has one meter (<c>EdgeStream.Storage</c>, <c>.Kafka</c>, <c>.Mqtt</c>,
/// <c>.Uplink</c>, <c>.Hosting</c>); the runtime's <c>System.Runtime</c> meter gives process memory, GC and
/// threads, Kestrel's gives connections per listener.
/// </summary>
public static class MetricsHosting
{
    /// <summary>The meters exported at <c>/metrics</c>.</summary>
    public static readonly IReadOnlyList<string> Meters =
    [
        StorageMetrics.MeterName, KafkaMetrics.MeterName, MqttMetrics.MeterName, UplinkMetrics.MeterName, NodeMetrics.MeterName,
        "System.Runtime", "Microsoft.AspNetCore.Server.Kestrel",
    ];

    private static readonly (string Instrument, string Name)[] RuntimeRenames =
    [
        ("dotnet.assembly.count", "dotnet.assemblies.loaded"),
        ("dotnet.process.cpu.count", "dotnet.process.cpus"),
        ("dotnet.thread_pool.thread.count", "dotnet.thread_pool.threads"),
        ("dotnet.timer.count", "dotnet.timers"),
    ];

    public static IServiceCollection AddEdgeStreamMetrics(this IServiceCollection services, AgentOptions options, NodeContext node)
    {
        TopicLabels.MaxTopics = options.MetricsMaxTopics;
        services.AddSingleton<NodeMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("edgestream", serviceVersion: node.Version, serviceInstanceId: node.NodeId))
            .WithMetrics(metrics =>
            {
                foreach (var meter in Meters) metrics.AddMeter(meter);
                // Prometheus reserves the _count suffix for histograms and summaries (promtool's lint
                // refuses these runtime gauges as they are named): the same figures, renamed.
                foreach (var (instrument, name) in RuntimeRenames) metrics.AddView(instrument, name);
                metrics.AddPrometheusExporter(o =>
                {
                    // Every scrape sees the counters as they are now (tests compare them with what was produced).
                    o.ScrapeResponseCacheDurationMilliseconds = 0;
                });
            });
        return services;
    }

    /// <summary>Maps <c>GET /metrics</c> and creates the node's observable instruments.</summary>
    public static IEndpointRouteBuilder MapEdgeStreamMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.ServiceProvider.GetRequiredService<NodeMetrics>();
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        return endpoints;
    }
}
