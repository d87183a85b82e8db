using EdgeStream.Common.Metrics;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Kafka.Server;
using EdgeStream.Mqtt;
using EdgeStream.Storage;
using EdgeStream.Uplink;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Metrics;

/// <summary>
/// Collects the meters (<see cref="PrometheusExposition"/>) and serves <c>GET /metrics</c> on the HTTP
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

    // Prometheus reserves the _count suffix for histograms and summaries (promtool's lint
    // refuses these runtime gauges as they are named): the same figures, renamed.
    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies.loaded",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.thread_pool.thread.count"] = "dotnet.thread_pool.threads",
        ["dotnet.timer.count"] = "dotnet.timers",
    };

    // The runtime declares these two as observable counters, but they go down as well as up: gauges,
    // as OpenTelemetry's exporter showed them (dotnet_thread_pool_threads, dotnet_thread_pool_queue_length).
    private static readonly HashSet<string> RuntimeGauges = new(StringComparer.Ordinal)
    {
        "dotnet.thread_pool.thread.count", "dotnet.thread_pool.queue.length",
    };

    public static IServiceCollection AddEdgeStreamMetrics(this IServiceCollection services, AgentOptions options)
    {
        TopicLabels.MaxTopics = options.MetricsMaxTopics;
        services.AddSingleton<NodeMetrics>();
        services.AddSingleton(sp => new PrometheusExposition(Meters, RuntimeRenames, sp.GetRequiredService<IMeterFactory>(), RuntimeGauges));
        return services;
    }

    /// <summary>Maps <c>GET /metrics</c> and creates the node's observable instruments.</summary>
    public static IEndpointRouteBuilder MapEdgeStreamMetrics(this IEndpointRouteBuilder endpoints)
    {
        // The listener first: it sees the node's instruments as they are created.
        endpoints.ServiceProvider.GetRequiredService<PrometheusExposition>();
        endpoints.ServiceProvider.GetRequiredService<NodeMetrics>();
        // Every scrape sees the counters as they are now (tests compare them with what was produced).
        endpoints.MapGet("/metrics", (RequestDelegate)(static context =>
        {
            var text = context.RequestServices.GetRequiredService<PrometheusExposition>().Scrape();
            context.Response.ContentType = PrometheusExposition.ContentType;
            return context.Response.WriteAsync(text, context.RequestAborted);
        }));
        return endpoints;
    }
}
