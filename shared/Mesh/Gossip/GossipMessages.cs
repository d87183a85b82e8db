using System.Net;
using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.Gossip;

/// <summary>The first-level message types. A receiver ignores (and counts) a type it does not know.</summary>
public enum GossipMessageType : byte
{
    /// <summary>SWIM probe: "are you <c>target</c>? answer <c>seq</c>".</summary>
    Ping = 1,

    /// <summary>SWIM indirect probe: "ping <c>target</c> at this address for me and relay its ack".</summary>
    PingReq = 2,

    /// <summary>Answer to a ping, or an indirect ack relayed by a helper.</summary>
    Ack = 3,

    /// <summary>Lifeguard: a helper could not reach the target in time (tells the requester its own link works).</summary>
    Nack = 4,

    /// <summary>Membership updates only (a leave is pushed this way instead of waiting for the next probe).</summary>
    Gossip = 5,

    /// <summary>Full state, over the stream exchange only (TCP), never in a datagram.</summary>
    PushPull = 6,
}

/// <summary>The kinds of piggybacked membership update.</summary>
public enum MemberUpdateKind : byte
{
    Alive = 1,
    Suspect = 2,
    Dead = 3,
}

/// <summary>
/// One piggybacked update. <see cref="Metadata"/> is set for <see cref="MemberUpdateKind.Alive"/>,
/// <see cref="From"/> (who suspects, or who declared the death; the member itself for a leave) for the others.
/// </summary>
public readonly record struct MemberUpdate(MemberUpdateKind Kind, string NodeId, long Incarnation, string? From, MemberMetadata? Metadata)
{
    public static MemberUpdate Alive(string nodeId, long incarnation, MemberMetadata metadata) => new(MemberUpdateKind.Alive, nodeId, incarnation, null, metadata);

    public static MemberUpdate Suspect(string nodeId, long incarnation, string from) => new(MemberUpdateKind.Suspect, nodeId, incarnation, from, null);

    public static MemberUpdate Dead(string nodeId, long incarnation, string from) => new(MemberUpdateKind.Dead, nodeId, incarnation, from, null);

    /// <summary>A dead update sent by the member about itself: a graceful leave.</summary>
    public bool IsLeave => Kind == MemberUpdateKind.Dead && From == NodeId;
}

/// <summary>A decoded datagram: the envelope's fields and the updates that followed it.</summary>
public sealed class GossipDatagram
{
    public GossipMessageType Type { get; internal set; }

    /// <summary>Node id of the sender.</summary>
    public string From { get; internal set; } = "";

    /// <summary>Probe sequence number (ping, ping-req, ack, nack); 0 otherwise.</summary>
    public uint Sequence { get; internal set; }

    /// <summary>Ping and ping-req: the node id the probe is meant for.</summary>
    public string? Target { get; internal set; }

    /// <summary>Ping-req: where to reach <see cref="Target"/>.</summary>
    public IPEndPoint? TargetEndPoint { get; internal set; }

    public List<MemberUpdate> Updates { get; } = [];

    /// <summary>Updates of a kind this version does not know, skipped.</summary>
    public int UnknownUpdates { get; internal set; }

    internal void Reset()
    {
        Type = 0;
        From = "";
        Sequence = 0;
        Target = null;
        TargetEndPoint = null;
        Updates.Clear();
        UnknownUpdates = 0;
    }
}

/// <summary>One member in a push-pull state exchange.</summary>
public readonly record struct MemberRecord(string NodeId, long Incarnation, MemberState State, MemberMetadata Metadata);

/// <summary>A decoded push-pull message (request or reply: same shape).</summary>
public sealed class PushPullState
{
    public string From { get; internal set; } = "";

    /// <summary>True when the sender is joining (its first exchange).</summary>
    public bool Join { get; internal set; }

    public List<MemberRecord> Members { get; } = [];

    /// <summary>Entries with a state this version does not know, skipped.</summary>
    public int UnknownEntries { get; internal set; }

    internal void Reset()
    {
        From = "";
        Join = false;
        Members.Clear();
        UnknownEntries = 0;
    }
}

/// <summary>Why a decode did not produce a message. Every non-<see cref="Ok"/> result is counted by the engine.</summary>
public enum GossipDecodeStatus
{
    Ok,

    /// <summary>Not valid for this format: bad MessagePack, a length or count over its limit, an invalid name or address.</summary>
    Malformed,

    /// <summary>A format version this node does not speak.</summary>
    UnsupportedVersion,

    /// <summary>Another cluster (fleet) on the same network.</summary>
    ForeignCluster,

    /// <summary>This cluster, another scope (site vs upstream).</summary>
    ForeignScope,

    /// <summary>A message type this version does not know.</summary>
    UnknownType,
}
