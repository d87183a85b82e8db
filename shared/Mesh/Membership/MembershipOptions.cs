using System.Net;
using EdgeStream.Mesh.Gossip;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// Settings of one <see cref="SwimMembership"/> instance (one scope). Defaults are documented per
/// property; <see cref="Validate"/> runs when the instance is created.
/// <para>
/// How the timing defaults were chosen (figures in docs/ARCHITECTURE.md, "The mesh"): a member must survive a 2 s
/// stop-the-world pause (GC on a small device) and a dead member must be declared dead within 3 s
/// at p99 with 50 members and 5 % loss. The earliest verdict on a member that stopped at t = 0 is
/// probe interval + <see cref="SuspicionMinTimeout"/> (a probe sent just after it stopped fails at the
/// end of its round; enough confirmations then shrink the suspicion to its minimum), so that sum must
/// exceed 2 s. The first probe of a stopped member comes after an exponentially distributed wait
/// (about one probe per interval reaches any given member), ~4.6 intervals at p99, which leaves
/// under 1 s for it: hence a probe interval well below memberlist's 1 s.
/// </para>
/// </summary>
public sealed record MembershipOptions
{
    /// <summary>This node's id: unique in the cluster, 1–64 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public required string NodeId { get; init; }

    /// <summary>This node's role (<c>edge</c>, <c>gateway</c>, <c>cloud</c>), gossiped in its metadata.</summary>
    public required string Role { get; init; }

    /// <summary>
    /// The fleet's name. Messages of another cluster are dropped and counted, so two fleets on one
    /// LAN stay apart. Default <c>edgestream</c>.
    /// </summary>
    public string ClusterName { get; init; } = "edgestream";

    /// <summary>
    /// Which membership this instance is: <c>site</c> (edges and gateways of one LAN) or <c>upstream</c>
    /// (gateways and cloud). Messages of another scope are dropped and counted. Default <c>site</c>.
    /// </summary>
    public string Scope { get; init; } = "site";

    /// <summary>This node's uplink listener as children should dial it (<c>HOST:PORT</c>); empty when it has none. Default empty.</summary>
    public string UplinkAddress { get; init; } = "";

    /// <summary>
    /// The gossip address the rest of the scope reaches this node at, when it differs from the
    /// transport's bound address (bound to 0.0.0.0, or behind a port mapping). Default: the bound address.
    /// </summary>
    public IPEndPoint? AdvertiseEndPoint { get; init; }

    /// <summary>Load reported until the first <see cref="SwimMembership.UpdateLocalMetadata"/>. Default zeros.</summary>
    public MemberLoad InitialLoad { get; init; }

    /// <summary>
    /// Time between probes of this node (one member per round, round-robin over a shuffled list).
    /// Default 150 ms: about one probe per interval reaches a given member, so the wait before a
    /// stopped member is first probed is ~0.7 s at p99; the cost is ~7 pings and ~7 acks of ~50
    /// bytes per second per member.
    /// </summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// How long to wait for a direct ack before asking <see cref="IndirectChecks"/> others to probe.
    /// At most half the probe interval, so the indirect probe (and a helper's nack at 80 % of its own
    /// timeout) completes inside the round. Default 60 ms: ten LAN round trips.
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(60);

    /// <summary>Members asked to probe indirectly after a direct probe timed out (SWIM's k). Default 3.</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>
    /// Shortest suspicion: reached once <see cref="SuspicionConfirmations"/> other members
    /// independently suspect the same member. Default 2 s: with the probe interval, a member stopped
    /// for up to ~2 s still refutes in time (a refutation goes straight to every live member).
    /// </summary>
    public TimeSpan SuspicionMinTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest suspicion, with no independent confirmation (Lifeguard: the timeout starts here and
    /// shrinks logarithmically towards the minimum as confirmations arrive). Default 6 s: time for a
    /// falsely suspected member to hear of it by gossip and refute even in a 200-member scope with loss.
    /// </summary>
    public TimeSpan SuspicionMaxTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Independent confirmations that bring a suspicion down to its minimum (Lifeguard's K). Default 3.</summary>
    public int SuspicionConfirmations { get; init; } = 3;

    /// <summary>
    /// Each update is piggybacked at most multiplier × ⌈log10(n + 1)⌉ times by each member (SWIM's λ log n):
    /// enough for infection-style spread to reach every member with high probability. Default 4.
    /// </summary>
    public int RetransmitMultiplier { get; init; } = 4;

    /// <summary>
    /// Lifeguard's local health multiplier: a node that misses its own acks multiplies its probe
    /// interval, probe timeout and suspicion timeouts by up to this factor. Default 8.
    /// </summary>
    public int MaxHealthMultiplier { get; init; } = 8;

    /// <summary>
    /// Full-state push-pull with one random member (live or recently dead: that heals partitions) over
    /// the stream exchange, stretched by ⌈log2(n / 32)⌉ + 1 above 32 members so the per-member cost
    /// stays flat. Default 30 s.
    /// </summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a push-pull is tried with one random dead (not left) member. A member that was killed
    /// and restarted under the same id with no seeds and no mDNS (a gateway restarted by its
    /// supervisor) knows nobody, and the others do not probe the dead: without this, only the periodic
    /// push-pull finds it, picking it among all members once per <see cref="PushPullInterval"/>.
    /// An attempt at a member still down costs a refused or unanswered connection, no payload.
    /// With n members holding it dead it is found in about interval / n. Default 10 s.
    /// </summary>
    public TimeSpan ReconnectInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one push-pull exchange (connect, send, reply). Default 5 s.</summary>
    public TimeSpan ExchangeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long dead and left members are kept (listed, and tried by push-pull so a healed partition
    /// merges back). Default 1 h.
    /// </summary>
    public TimeSpan DeadMemberRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long <see cref="SwimMembership.LeaveAsync"/> keeps answering probes so their acks carry the leave. Default 1 s.</summary>
    public TimeSpan LeavePropagationTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most members accepted (joins beyond it are ignored, push-pull states beyond it refused). Default 10 000.</summary>
    public int MaxMembers { get; init; } = 10_000;

    /// <summary>Seed of the engine's random choices (shuffles, helpers); null for a random seed. Simulations set it.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Throws <see cref="MeshException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!GossipCodec.IsValidName(NodeId)) throw new MeshException($"node id '{NodeId}' is not 1-{GossipCodec.MaxNameLength} of A-Z a-z 0-9 . _ -");
        if (!GossipCodec.IsValidName(ClusterName)) throw new MeshException($"cluster name '{ClusterName}' is not 1-{GossipCodec.MaxNameLength} of A-Z a-z 0-9 . _ -");
        if (!GossipCodec.IsValidName(Scope)) throw new MeshException($"scope '{Scope}' is not 1-{GossipCodec.MaxNameLength} of A-Z a-z 0-9 . _ -");
        if (!GossipCodec.IsValidRole(Role)) throw new MeshException($"role '{Role}' is not 1-{GossipCodec.MaxRoleLength} printable ASCII characters");
        if (!GossipCodec.IsValidUplink(UplinkAddress)) throw new MeshException($"uplink address '{UplinkAddress}' is over {GossipCodec.MaxUplinkLength} characters or not printable ASCII");
        if (InitialLoad.BacklogBytes < 0 || InitialLoad.Children < 0 || InitialLoad.DiskFreeBytes < 0) throw new MeshException("initial load must not be negative");
        Positive(ProbeInterval, nameof(ProbeInterval));
        Positive(ProbeTimeout, nameof(ProbeTimeout));
        if (ProbeTimeout * 2 > ProbeInterval) throw new MeshException($"ProbeTimeout ({ProbeTimeout}) must be at most half of ProbeInterval ({ProbeInterval})");
        if (IndirectChecks is < 0 or > 16) throw new MeshException("IndirectChecks must be 0-16");
        Positive(SuspicionMinTimeout, nameof(SuspicionMinTimeout));
        if (SuspicionMaxTimeout < SuspicionMinTimeout) throw new MeshException("SuspicionMaxTimeout must be at least SuspicionMinTimeout");
        if (SuspicionConfirmations is < 0 or > 64) throw new MeshException("SuspicionConfirmations must be 0-64");
        if (RetransmitMultiplier is < 1 or > 64) throw new MeshException("RetransmitMultiplier must be 1-64");
        if (MaxHealthMultiplier is < 1 or > 64) throw new MeshException("MaxHealthMultiplier must be 1-64");
        Positive(PushPullInterval, nameof(PushPullInterval));
        Positive(ExchangeTimeout, nameof(ExchangeTimeout));
        Positive(ReconnectInterval, nameof(ReconnectInterval));
        Positive(DeadMemberRetention, nameof(DeadMemberRetention));
        if (LeavePropagationTime < TimeSpan.Zero) throw new MeshException("LeavePropagationTime must not be negative");
        if (MaxMembers is < 2 or > 1_000_000) throw new MeshException("MaxMembers must be 2-1000000");
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero) throw new MeshException($"{name} must be positive");
    }
}
