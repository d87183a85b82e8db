using EdgeStream.Hosting.Storage;
using EdgeStream.Kafka.Server;
using EdgeStream.Uplink.Fleet;
using EdgeStream.Uplink.Sending;

namespace EdgeStream.Hosting.Fleet;

/// <summary>
/// The body of <c>GET /v1/fleet</c> (and the <c>fleet</c> section of <c>/v1/status</c>): this node and
/// every node below it that reported, each with its parent's id (the tree), when it was last heard of
/// and whether that is longer ago than <c>--fleet-stale-after</c>.
/// </summary>
public sealed class FleetView
{
    public required string Self { get; init; }
    public double StaleAfterSeconds { get; init; }
    public required IReadOnlyList<FleetNodeView> Nodes { get; init; }

    public static FleetView Build(NodeContext node, StorageState storage, UplinkStatus? uplink, KafkaBroker? broker, FleetRegistry? registry, TimeSpan staleAfter)
    {
        var nodes = new List<FleetNodeView> { FleetNodeView.From(FleetReports.Own(node, storage, uplink, broker), 0, staleAfter) };
        if (registry is not null)
        {
            var now = registry.NowMs;
            foreach (var entry in registry.Snapshot())
                nodes.Add(FleetNodeView.From(entry.Report, Math.Max(0, now - entry.HeardAtMs), staleAfter));
        }
        return new FleetView { Self = node.NodeId, StaleAfterSeconds = staleAfter.TotalSeconds, Nodes = nodes };
    }
}

public sealed class FleetNodeView
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    public required string Version { get; init; }
    /// <summary>Node id of the parent this node reports to; null for the node serving the view (its parent is above it).</summary>
    public string? ParentId { get; init; }
    public string? ParentAddress { get; init; }
    public bool ParentConnected { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public double UptimeSeconds { get; init; }
    /// <summary>Seconds since this node's status was last heard of here (0 for this node).</summary>
    public double LastHeardSecondsAgo { get; init; }
    /// <summary>"ok", or "stale" once not heard of for longer than <c>--fleet-stale-after</c>.</summary>
    public required string State { get; init; }
    public long BacklogRecords { get; init; }
    public long BacklogBytes { get; init; }
    public double BacklogAgeSeconds { get; init; }
    public long DiskUsedBytes { get; init; }
    public long DiskBudgetBytes { get; init; }
    public long DroppedRecords { get; init; }
    public int Topics { get; init; }
    public long RecordsIn { get; init; }
    public long RecordsSent { get; init; }
    public int Groups { get; init; }
    public long GroupLagRecords { get; init; }
    public string? LastError { get; init; }

    internal static FleetNodeView From(EdgeStream.Uplink.Grpc.NodeReport r, long ageMs, TimeSpan staleAfter)
    {
        var started = DateTimeOffset.FromUnixTimeMilliseconds(r.StartedAtMs);
        var heardAt = DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(ageMs);
        return new FleetNodeView
        {
            NodeId = r.NodeId,
            Role = r.Role,
            Version = r.Version,
            ParentId = r.ParentId.Length == 0 ? null : r.ParentId,
            ParentAddress = r.ParentAddress.Length == 0 ? null : r.ParentAddress,
            ParentConnected = r.ParentConnected,
            StartedAt = started,
            UptimeSeconds = Math.Max(0, Math.Round((heardAt - started).TotalSeconds, 1)),
            LastHeardSecondsAgo = Math.Round(ageMs / 1000.0, 1),
            State = ageMs > staleAfter.TotalMilliseconds ? "stale" : "ok",
            BacklogRecords = r.BacklogRecords,
            BacklogBytes = r.BacklogBytes,
            BacklogAgeSeconds = Math.Round(r.BacklogAgeSeconds, 1),
            DiskUsedBytes = r.DiskUsedBytes,
            DiskBudgetBytes = r.DiskBudgetBytes,
            DroppedRecords = r.DroppedRecords,
            Topics = r.Topics,
            RecordsIn = r.RecordsIn,
            RecordsSent = r.RecordsSent,
            Groups = r.Groups,
            GroupLagRecords = r.GroupLagRecords,
            LastError = r.LastError.Length == 0 ? null : r.LastError,
        };
    }
}
