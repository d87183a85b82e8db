using System.Text.Json.Serialization;
using EdgeStream.Metadata;
using EdgeStream.Uplink.Receiving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting.Http;

/// <summary>
/// The uplink deny list over HTTP (gateway and cloud): <c>GET /v1/nodes/revoked</c> lists it,
/// <c>POST</c> and <c>DELETE /v1/nodes/revoked/{nodeId}</c> revoke and unrevoke (the token check in
/// front of the HTTP port makes those need <c>--http-token</c>). Mapped on the HTTP port only: the
/// uplink port has no token check in front of it.
/// </summary>
public static class RevokedNodesEndpoints
{
    public const string Path = "/v1/nodes/revoked";

    public static void MapRevokedNodes(this IEndpointRouteBuilder endpoints, int httpPort)
    {
        var host = $"*:{httpPort}";
        endpoints.MapGet(Path, (RequestDelegate)(static context =>
            context.Response.WriteAsJsonAsync(View(context.RequestServices.GetRequiredService<RevokedNodes>()),
                RevokedNodesJsonContext.Default.RevokedNodesView, cancellationToken: context.RequestAborted))).RequireHost(host);
        endpoints.MapPost(Path + "/{nodeId}", (RequestDelegate)(static context => ChangeAsync(context, revoke: true))).RequireHost(host);
        endpoints.MapDelete(Path + "/{nodeId}", (RequestDelegate)(static context => ChangeAsync(context, revoke: false))).RequireHost(host);
    }

    private static Task ChangeAsync(HttpContext context, bool revoke)
    {
        var nodeId = context.Request.RouteValues["nodeId"] as string ?? "";
        context.Response.ContentType = "text/plain; charset=utf-8";
        if (!ChildIdentity.IsValidNodeId(nodeId))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return context.Response.WriteAsync("not a node id (1-64 of A-Z a-z 0-9 . _ -)\n");
        }
        var list = context.RequestServices.GetRequiredService<RevokedNodes>();
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RevokedNodesEndpoints).FullName!);
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "?";
        if (revoke)
        {
            // Created the first time; revoking again is not an error (the original date is kept).
            var added = list.Revoke(nodeId);
            if (added) RevokedNodesLog.Revoked(logger, nodeId, remote);
            context.Response.StatusCode = added ? StatusCodes.Status201Created : StatusCodes.Status200OK;
            return context.Response.WriteAsync(added ? $"revoked {nodeId}\n" : $"{nodeId} was already revoked\n");
        }
        if (!list.Unrevoke(nodeId))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync($"{nodeId} is not revoked\n");
        }
        RevokedNodesLog.Unrevoked(logger, nodeId, remote);
        return context.Response.WriteAsync($"unrevoked {nodeId}\n");
    }

    private static RevokedNodesView View(RevokedNodes list) =>
        new() { Nodes = list.List().Select(n => new RevokedNodeView { NodeId = n.NodeId, RevokedAt = n.RevokedAt }).ToList() };
}

/// <summary>The body of <c>GET /v1/nodes/revoked</c>.</summary>
public sealed class RevokedNodesView
{
    public IReadOnlyList<RevokedNodeView> Nodes { get; init; } = [];
}

public sealed class RevokedNodeView
{
    public required string NodeId { get; init; }
    public DateTimeOffset RevokedAt { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RevokedNodesView))]
public sealed partial class RevokedNodesJsonContext : JsonSerializerContext;

/// <summary>Changes of the deny list (event ids 1260-1269): who asked, from where.</summary>
internal static partial class RevokedNodesLog
{
    [LoggerMessage(EventId = 1260, Level = LogLevel.Warning, Message = "Node {NodeId} revoked (HTTP from {Remote}): its uplinks and records relayed from it are refused from the next frame on")]
    public static partial void Revoked(ILogger logger, string nodeId, string remote);

    [LoggerMessage(EventId = 1261, Level = LogLevel.Warning, Message = "Node {NodeId} unrevoked (HTTP from {Remote}): its uplinks are accepted again")]
    public static partial void Unrevoked(ILogger logger, string nodeId, string remote);

    [LoggerMessage(EventId = 1262, Level = LogLevel.Warning, Message = "Node {NodeId} revoked at start (--revoked-nodes)")]
    public static partial void RevokedAtStart(ILogger logger, string nodeId);
}
