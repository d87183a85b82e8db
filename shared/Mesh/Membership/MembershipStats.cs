namespace EdgeStream.Mesh.Membership;

/// <summary>Counters of one membership instance (monotonic since start), for /v1/status and benchmarks.</summary>
public sealed class MembershipStats
{
    internal long DatagramsSentCount;
    internal long BytesSentCount;
    internal long DatagramsReceivedCount;
    internal long BytesReceivedCount;
    internal long MalformedCount;
    internal long UnsupportedVersionCount;
    internal long ForeignClusterCount;
    internal long ForeignScopeCount;
    internal long UnknownTypeCount;
    internal long UnknownUpdatesCount;
    internal long MisdirectedCount;
    internal long ProbesCount;
    internal long ProbesFailedCount;
    internal long IndirectProbesCount;
    internal long SuspicionsCount;
    internal long DeclaredDeadCount;
    internal long RefutationsCount;
    internal long PushPullsCount;
    internal long PushPullFailuresCount;
    internal long ExchangeBytesSentCount;
    internal long ExchangeBytesReceivedCount;

    public long DatagramsSent => Interlocked.Read(ref DatagramsSentCount);

    /// <summary>Datagram payload bytes sent (UDP/IP headers not included).</summary>
    public long BytesSent => Interlocked.Read(ref BytesSentCount);

    public long DatagramsReceived => Interlocked.Read(ref DatagramsReceivedCount);

    public long BytesReceived => Interlocked.Read(ref BytesReceivedCount);

    /// <summary>Datagrams and push-pull messages that broke the format or a limit (dropped).</summary>
    public long Malformed => Interlocked.Read(ref MalformedCount);

    public long UnsupportedVersion => Interlocked.Read(ref UnsupportedVersionCount);

    /// <summary>Messages of another cluster (fleet) on the same network, dropped.</summary>
    public long ForeignCluster => Interlocked.Read(ref ForeignClusterCount);

    /// <summary>Messages of this cluster's other scope (site vs upstream), dropped.</summary>
    public long ForeignScope => Interlocked.Read(ref ForeignScopeCount);

    /// <summary>Messages of a type this version does not know, ignored.</summary>
    public long UnknownType => Interlocked.Read(ref UnknownTypeCount);

    /// <summary>Piggybacked updates of a kind this version does not know, skipped.</summary>
    public long UnknownUpdates => Interlocked.Read(ref UnknownUpdatesCount);

    /// <summary>Pings meant for another node id (an address reused after a restart), not answered.</summary>
    public long Misdirected => Interlocked.Read(ref MisdirectedCount);

    public long Probes => Interlocked.Read(ref ProbesCount);

    /// <summary>Probes answered neither directly nor through a helper.</summary>
    public long ProbesFailed => Interlocked.Read(ref ProbesFailedCount);

    public long IndirectProbes => Interlocked.Read(ref IndirectProbesCount);

    /// <summary>Suspicions this instance started (its own probe failed).</summary>
    public long Suspicions => Interlocked.Read(ref SuspicionsCount);

    /// <summary>Members this instance declared dead (its suspicion timed out first).</summary>
    public long DeclaredDead => Interlocked.Read(ref DeclaredDeadCount);

    /// <summary>Times this node raised its incarnation to refute a suspicion, death or stale state about itself.</summary>
    public long Refutations => Interlocked.Read(ref RefutationsCount);

    public long PushPulls => Interlocked.Read(ref PushPullsCount);

    public long PushPullFailures => Interlocked.Read(ref PushPullFailuresCount);

    /// <summary>Push-pull payload bytes sent, requests and replies (stream framing not included).</summary>
    public long ExchangeBytesSent => Interlocked.Read(ref ExchangeBytesSentCount);

    public long ExchangeBytesReceived => Interlocked.Read(ref ExchangeBytesReceivedCount);
}
