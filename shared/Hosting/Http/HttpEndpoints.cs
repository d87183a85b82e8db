using System.Text.Json.Serialization;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Fleet;
using EdgeStream.Hosting.Storage;
using EdgeStream.Uplink.Receiving;
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
        endpoints.MapGet("/", (RequestDelegate)Dashboard.ServeAsync);

        endpoints.MapGet("/healthz", (RequestDelegate)(static context =>
        {
            var state = context.RequestServices.GetRequiredService<StorageState>();
            context.Response.ContentType = "text/plain; charset=utf-8";
            if (state.IsOpen) return context.Response.WriteAsync("ok");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync("storage not open");
        }));

        // Ready: the log is open, every listener is bound (the host has started) and the parent answers,
        // or the node has none on purpose (a cloud node; a mesh-following node before it chose one).
        endpoints.MapGet("/readyz", (RequestDelegate)(static context =>
        {
            var services = context.RequestServices;
            var problems = new List<string>(3);
            if (!services.GetRequiredService<StorageState>().IsOpen) problems.Add("storage: not open");
            if (!services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStarted.IsCancellationRequested)
                problems.Add("listeners: not all bound yet");
            if (services.GetService<EdgeStream.Uplink.Sending.UplinkStatus>() is { } uplink
                && (uplink.CurrentParent is not null || services.GetRequiredService<AgentOptions>().Parents.Count > 0)
                && !uplink.Connected)
                problems.Add($"parent: {uplink.CurrentParent ?? "none"} not reachable");
            context.Response.ContentType = "text/plain; charset=utf-8";
            if (problems.Count == 0) return context.Response.WriteAsync("ready");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return context.Response.WriteAsync(string.Join("\n", problems));
        }));

        endpoints.MapGet("/v1/fleet", (RequestDelegate)(static context =>
            context.Response.WriteAsJsonAsync(Fleet(context.RequestServices), StatusJsonContext.Default.FleetView, cancellationToken: context.RequestAborted)));

        endpoints.MapGet("/v1/topics", (RequestDelegate)(static context =>
            context.Response.WriteAsJsonAsync(TopicsView.Build(context.RequestServices), StatusJsonContext.Default.TopicsView, cancellationToken: context.RequestAborted)));

        endpoints.MapGet("/v1/status", (RequestDelegate)(static context =>
        {
            var node = context.RequestServices.GetRequiredService<NodeContext>();
            var state = context.RequestServices.GetRequiredService<StorageState>();
            var manager = state.Manager;
            var dropped = manager?.Dropped ?? default;
            var status = new StatusResponse
            {
                NodeId = node.NodeId,
                Role = node.Role.ToText(),
                Version = node.Version,
                StartedAt = node.StartedAt,
                StorageOpen = manager is not null,
                Topics = manager?.Topics.Count ?? 0,
                UsedBytes = manager?.UsedBytes ?? 0,
                MaxDiskBytes = manager?.MaxDiskBytes ?? 0,
                DroppedSegments = dropped.Segments,
                DroppedRecords = dropped.Records,
                DroppedBytes = dropped.Bytes,
                Drops = manager is null ? [] : TopicDrops(manager),
                Uplink = UplinkReceiverStatus.From(context.RequestServices.GetService<UplinkReceiverStats>()),
                UplinkSender = context.RequestServices.GetService<EdgeStream.Uplink.Sending.UplinkStatus>()?.Snapshot(),
                Mesh = context.RequestServices.GetService<EdgeStream.Hosting.Mesh.MeshService>() is { } mesh
                    ? EdgeStream.Hosting.Mesh.MeshStatus.From(mesh, context.RequestServices.GetRequiredService<AgentOptions>().Cluster)
                    : null,
                Files = context.RequestServices.GetService<EdgeStream.Files.Receiving.FilesStatus>()?.Snapshot(),
                Cdc = context.RequestServices.GetService<EdgeStream.Cdc.CdcService>()?.Snapshot(),
                Sink = context.RequestServices.GetService<EdgeStream.Sink.SinkStatus>()?.Snapshot(),
                Kafka = context.RequestServices.GetService<EdgeStream.Kafka.Server.KafkaBroker>() is { } broker
                    ? new KafkaStatus { FetchSessions = broker.FetchSessionStats() }
                    : null,
                Authentication = AuthenticationStatus.From(context.RequestServices.GetRequiredService<AgentOptions>(),
                    context.RequestServices.GetService<EdgeStream.Security.Authentication.UserAuthenticator>(),
                    context.RequestServices.GetService<EdgeStream.Security.Acls.AclAuthorizer>()),
                Fleet = Fleet(context.RequestServices),
            };
            return context.Response.WriteAsJsonAsync(status, StatusJsonContext.Default.StatusResponse, cancellationToken: context.RequestAborted);
        }));
        return endpoints;
    }

    private static FleetView Fleet(IServiceProvider services) => FleetView.Build(
        services.GetRequiredService<NodeContext>(), services.GetRequiredService<StorageState>(),
        services.GetService<EdgeStream.Uplink.Sending.UplinkStatus>(), services.GetService<EdgeStream.Kafka.Server.KafkaBroker>(),
        services.GetService<EdgeStream.Uplink.Fleet.FleetRegistry>(),
        services.GetRequiredService<AgentOptions>().FleetStaleAfter);

    // Only topics that lost data to disk.full.policy=drop-oldest: the list stays short on a healthy node.
    private static List<TopicDropStatus> TopicDrops(EdgeStream.Storage.LogManager manager)
    {
        var drops = new List<TopicDropStatus>();
        foreach (var topic in manager.Topics)
        {
            var d = topic.Dropped;
            if (d.Segments > 0) drops.Add(new TopicDropStatus { Topic = topic.Name, Segments = d.Segments, Records = d.Records, Bytes = d.Bytes });
        }
        drops.Sort(static (a, b) => string.CompareOrdinal(a.Topic, b.Topic));
        return drops;
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
    /// <summary>--max-disk in bytes; 0 = no budget.</summary>
    public long MaxDiskBytes { get; init; }
    /// <summary>Totals deleted by disk.full.policy=drop-oldest since the agent started.</summary>
    public long DroppedSegments { get; init; }
    public long DroppedRecords { get; init; }
    public long DroppedBytes { get; init; }
    public IReadOnlyList<TopicDropStatus> Drops { get; init; } = [];
    /// <summary>The uplink sender's counters (what goes up to the parent); null on a cloud node.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeStream.Uplink.Sending.UplinkStatusSnapshot? UplinkSender { get; init; }
    /// <summary>Children's uplinks received (gateway and cloud only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public UplinkReceiverStatus? Uplink { get; init; }
    /// <summary>Members, parent and mDNS counters; null on a node that runs no mesh.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeStream.Hosting.Mesh.MeshStatus? Mesh { get; init; }
    /// <summary>Files received under <c>--files-dir</c>, per origin; null on a node without it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeStream.Files.Receiving.FilesStatusSnapshot? Files { get; init; }
    /// <summary>CDC sources: state, slot, confirmed LSN, lag, rows; null when none is configured.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<EdgeStream.Cdc.CdcSourceStatusSnapshot>? Cdc { get; init; }
    /// <summary>The cloud sink into an external Kafka cluster (<c>--sink</c>): state, lag, counters; null without one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeStream.Sink.SinkStatusSnapshot? Sink { get; init; }
    /// <summary>The Kafka listener's shared state.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public KafkaStatus? Kafka { get; init; }
    /// <summary>What the data ports require and how authentication went since start-up.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AuthenticationStatus? Authentication { get; init; }
    /// <summary>This node and every node below it that reports (see <c>GET /v1/fleet</c>).</summary>
    public FleetView? Fleet { get; init; }
}

/// <summary>The <c>authentication</c> part of <c>GET /v1/status</c>: settings in force and counters since start-up (no user names).</summary>
public sealed class AuthenticationStatus
{
    /// <summary>SASL mechanisms the Kafka listener requires; empty: none.</summary>
    public IReadOnlyList<string> KafkaSasl { get; init; } = [];
    public bool MqttAuth { get; init; }
    public long KafkaFailures { get; init; }
    public long KafkaSuccesses { get; init; }
    public long MqttFailures { get; init; }
    public long MqttSuccesses { get; init; }
    /// <summary>Whether ACLs are enforced (<c>--authorizer on</c>).</summary>
    public bool Authorizer { get; init; }
    /// <summary>Kafka requests (or parts of them) refused by an ACL since start-up.</summary>
    public long KafkaAclDenials { get; init; }
    /// <summary>MQTT publishes and subscriptions refused by an ACL since start-up.</summary>
    public long MqttAclDenials { get; init; }

    internal static AuthenticationStatus? From(AgentOptions options, EdgeStream.Security.Authentication.UserAuthenticator? authenticator,
        EdgeStream.Security.Acls.AclAuthorizer? authorizer) =>
        authenticator is null ? null : new AuthenticationStatus
        {
            KafkaSasl = options.KafkaSasl,
            MqttAuth = options.MqttAuth,
            KafkaFailures = authenticator.Audit.KafkaFailures,
            KafkaSuccesses = authenticator.Audit.KafkaSuccesses,
            MqttFailures = authenticator.Audit.MqttFailures,
            MqttSuccesses = authenticator.Audit.MqttSuccesses,
            Authorizer = authorizer?.Enabled ?? false,
            KafkaAclDenials = authorizer?.Audit.KafkaDenials ?? 0,
            MqttAclDenials = authorizer?.Audit.MqttDenials ?? 0,
        };
}

/// <summary>The <c>kafka</c> part of <c>GET /v1/status</c>.</summary>
public sealed class KafkaStatus
{
    /// <summary>Incremental fetch sessions (KIP-227): open now, the cache's size, created and evicted since start-up.</summary>
    public EdgeStream.Kafka.Fetch.FetchSessionStats FetchSessions { get; init; }
}

/// <summary>What disk.full.policy=drop-oldest deleted from one topic since the agent started.</summary>
public sealed class TopicDropStatus
{
    public required string Topic { get; init; }
    public long Segments { get; init; }
    /// <summary>Offsets removed (the log start offsets advanced by this much in total).</summary>
    public long Records { get; init; }
    public long Bytes { get; init; }
}

/// <summary>The <c>uplink</c> part of <c>GET /v1/status</c>: counters since start-up.</summary>
public sealed class UplinkReceiverStatus
{
    public int ChildrenSeen { get; init; }
    public long ChildrenConnected { get; init; }
    public long Frames { get; init; }
    public long Records { get; init; }
    public long DuplicateFrames { get; init; }
    public long DuplicateRecords { get; init; }
    public long InvalidFrames { get; init; }
    public long RefusedFrames { get; init; }
    /// <summary>Streams and frames refused because the node, or the origin a gateway relays, is revoked.</summary>
    public long RevokedRefusals { get; init; }

    internal static UplinkReceiverStatus? From(UplinkReceiverStats? stats) => stats is null ? null : new UplinkReceiverStatus
    {
        ChildrenSeen = stats.ChildrenSeen,
        ChildrenConnected = stats.ChildrenConnected,
        Frames = stats.Frames,
        Records = stats.Records,
        DuplicateFrames = stats.DuplicateFrames,
        DuplicateRecords = stats.DuplicateRecords,
        InvalidFrames = stats.InvalidFrames,
        RefusedFrames = stats.RefusedFrames,
        RevokedRefusals = stats.RevokedRefusals,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(FleetView))]
[JsonSerializable(typeof(TopicsView))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
