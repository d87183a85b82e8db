using System.Text.Json.Serialization;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Http;

/// <summary>The node's own HTTP surface (loopback by default): health and status.</summary>
public static class HttpEndpoints
{
    public static IEndpointRouteBuilder MapEdgeStreamEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // RequestDelegate overloads: no reflection-based delegate binding, so this stays AOT-safe.
        endpoints.MapGet("/healthz", (RequestDelegate)(static context =>
        {
            var state = context.RequestServices.GetRequiredService<StorageState>();
            context.Response.ContentType = "text/plain; charset=utf-8";
            if (state.IsOpen) return context.Response.WriteAsync("ok");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync("storage not open");
        }));

        endpoints.MapGet("/v1/status", (RequestDelegate)(static context =>
        {
            var node = context.RequestServices.GetRequiredService<NodeContext>();
            var state = context.RequestServices.GetRequiredService<StorageState>();
            var manager = state.Manager;
            var status = new StatusResponse
            {
                NodeId = node.NodeId,
                Role = node.Role.ToText(),
                Version = node.Version,
                StartedAt = node.StartedAt,
                StorageOpen = manager is not null,
                Topics = manager?.Topics.Count ?? 0,
                UsedBytes = manager?.UsedBytes ?? 0,
                Uplink = context.RequestServices.GetService<EdgeStream.Uplink.Sending.UplinkStatus>()?.Snapshot(),
            };
            return context.Response.WriteAsJsonAsync(status, StatusJsonContext.Default.StatusResponse, cancellationToken: context.RequestAborted);
        }));
        return endpoints;
    }
}

/// <summary>The body of <c>GET /v1/status</c>.</summary>
public sealed class StatusResponse
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    public required string Version { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public bool StorageOpen { get; init; }
    public int Topics { get; init; }
    public long UsedBytes { get; init; }
    /// <summary>The uplink sender's counters; null on a node without <c>--parent</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeStream.Uplink.Sending.UplinkStatusSnapshot? Uplink { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatusResponse))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
