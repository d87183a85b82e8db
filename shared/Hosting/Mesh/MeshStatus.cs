using System.Globalization;
using EdgeStream.Mesh.Membership;

namespace EdgeStream.Hosting.Mesh;

/// <summary>The <c>mesh</c> part of <c>GET /v1/status</c> (read by <c>edgestream members</c>).</summary>
public sealed class MeshStatus
{
    public required string Cluster { get; init; }
    /// <summary>This node's advertised gossip address, <c>HOST:PORT</c>.</summary>
    public required string Gossip { get; init; }
    /// <summary>Every member of every scope this node runs (itself included, once per scope).</summary>
    public required IReadOnlyList<MeshMemberStatus> Members { get; init; }
    public required MeshParentStatus Parent { get; init; }
    public required MeshMdnsStatus Mdns { get; init; }
    /// <summary>Gossip traffic of each scope this node runs, since start.</summary>
    public required IReadOnlyList<MeshScopeTraffic> Traffic { get; init; }
    /// <summary>Whether gossip is sealed with a cluster key, and what failed authentication.</summary>
    public required MeshEncryptionStatus Encryption { get; init; }

    /// <summary>A snapshot of <paramref name="mesh"/>.</summary>
    public static MeshStatus From(MeshService mesh, string cluster)
    {
        var members = new List<MeshMemberStatus>();
        var traffic = new List<MeshScopeTraffic>();
        foreach (var scope in mesh.Scopes)
        {
            var stats = scope.Stats;
            traffic.Add(new MeshScopeTraffic
            {
                Scope = scope.Scope,
                DatagramsSent = stats.DatagramsSent,
                BytesSent = stats.BytesSent,
                DatagramsReceived = stats.DatagramsReceived,
                BytesReceived = stats.BytesReceived,
                ExchangeBytesSent = stats.ExchangeBytesSent,
                ExchangeBytesReceived = stats.ExchangeBytesReceived,
                Malformed = stats.Malformed,
            });
            IReadOnlyList<Member> list;
            try { list = scope.Members; }
            catch (ObjectDisposedException) { continue; }
            foreach (var m in list)
            {
                members.Add(new MeshMemberStatus
                {
                    NodeId = m.NodeId,
                    Role = m.Metadata.Role,
                    Scope = scope.Scope,
                    Address = m.Metadata.GossipEndPoint.ToString(),
                    Uplink = m.Metadata.UplinkAddress,
                    Parent = m.Metadata.Parent,
                    State = StateText(m.State),
                    Incarnation = m.Incarnation,
                    LastHeard = mesh.LastHeard(scope.Scope, m.NodeId, m.StateSince).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                    Load = new MeshLoadStatus
                    {
                        BacklogBytes = m.Metadata.Load.BacklogBytes,
                        Children = m.Metadata.Load.Children,
                        DiskFreeBytes = m.Metadata.Load.DiskFreeBytes,
                    },
                });
            }
        }
        var parent = mesh.Parent;
        var c = mesh.MdnsCounters;
        return new MeshStatus
        {
            Cluster = cluster,
            Gossip = mesh.GossipEndPoint?.ToString() ?? "",
            Members = members,
            Traffic = traffic,
            Encryption = new MeshEncryptionStatus
            {
                Enabled = mesh.Encryption is not null,
                Keys = mesh.Encryption?.KeyCount ?? 0,
                DatagramsRejected = mesh.Encryption?.DatagramsRejected ?? 0,
                ExchangesRejected = mesh.Encryption?.ExchangesRejected ?? 0,
            },
            Parent = new MeshParentStatus
            {
                NodeId = parent.NodeId,
                Address = parent.Address,
                Reason = parent.Reason,
                Since = parent.Since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            },
            Mdns = new MeshMdnsStatus
            {
                Enabled = c is not null,
                PacketsReceived = c?.PacketsReceived ?? 0,
                PacketsSent = c?.PacketsSent ?? 0,
                SendErrors = c?.SendErrors ?? 0,
                MalformedDropped = c?.MalformedDropped ?? 0,
                QueriesAnswered = c?.QueriesAnswered ?? 0,
                Conflicts = c?.Conflicts ?? 0,
                PeersFound = c?.PeersFound ?? 0,
                PeersLost = c?.PeersLost ?? 0,
            },
        };
    }

    internal static string StateText(MemberState state) => state switch
    {
        MemberState.Alive => "alive",
        MemberState.Suspect => "suspect",
        MemberState.Dead => "dead",
        _ => "left",
    };
}

public sealed class MeshMemberStatus
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    public required string Scope { get; init; }
    /// <summary>Gossip address, <c>HOST:PORT</c>.</summary>
    public required string Address { get; init; }
    /// <summary>Uplink listener, <c>HOST:PORT</c>, or empty.</summary>
    public required string Uplink { get; init; }
    /// <summary>The member's parent node id as it gossips it, empty for none.</summary>
    public string Parent { get; init; } = "";
    /// <summary><c>alive</c>, <c>suspect</c>, <c>dead</c> or <c>left</c>.</summary>
    public required string State { get; init; }
    public long Incarnation { get; init; }
    /// <summary>ISO 8601 UTC: the last message that changed what we know of it (load reports come every 2 s), or when it entered its state.</summary>
    public required string LastHeard { get; init; }
    public required MeshLoadStatus Load { get; init; }
}

/// <summary>UDP payload bytes (no IP/UDP headers) and push-pull payload bytes of one scope.</summary>
public sealed class MeshScopeTraffic
{
    public required string Scope { get; init; }
    public long DatagramsSent { get; init; }
    public long BytesSent { get; init; }
    public long DatagramsReceived { get; init; }
    public long BytesReceived { get; init; }
    public long ExchangeBytesSent { get; init; }
    public long ExchangeBytesReceived { get; init; }
    /// <summary>Datagrams dropped as malformed (garbage, oversized, forged fields).</summary>
    public long Malformed { get; init; }
}

/// <summary>Gossip encryption (<c>--gossip-key</c>) of the node's gossip port, all scopes together (the scope is inside the sealed message).</summary>
public sealed class MeshEncryptionStatus
{
    public bool Enabled { get; init; }
    /// <summary>Keys in the ring, the primary included (never the keys).</summary>
    public int Keys { get; init; }
    /// <summary>Datagrams dropped because no key authenticated them (another key, clear text, tampered).</summary>
    public long DatagramsRejected { get; init; }
    /// <summary>Push-pull requests and replies dropped for the same reason.</summary>
    public long ExchangesRejected { get; init; }
}

public sealed class MeshLoadStatus
{
    public long BacklogBytes { get; init; }
    public int Children { get; init; }
    public long DiskFreeBytes { get; init; }
}

public sealed class MeshParentStatus
{
    public string? NodeId { get; init; }
    public string? Address { get; init; }
    public required string Reason { get; init; }
    /// <summary>ISO 8601 UTC.</summary>
    public required string Since { get; init; }
}

public sealed class MeshMdnsStatus
{
    public bool Enabled { get; init; }
    public long PacketsReceived { get; init; }
    public long PacketsSent { get; init; }
    public long SendErrors { get; init; }
    public long MalformedDropped { get; init; }
    public long QueriesAnswered { get; init; }
    public long Conflicts { get; init; }
    public long PeersFound { get; init; }
    public long PeersLost { get; init; }
}
