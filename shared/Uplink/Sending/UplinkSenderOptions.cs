namespace EdgeStream.Uplink.Sending;

/// <summary>One upstream node the sender may connect to (<c>--parent HOST:PORT</c>).</summary>
public readonly record struct UplinkParent(string Host, int Port)
{
    /// <summary>The parent's uplink listener: h2c, or https with TLS.</summary>
    public Uri AddressFor(bool tls) => new($"{(tls ? "https" : "http")}://{(Host.Contains(':') ? "[" + Host + "]" : Host)}:{Port}");

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// Settings of <see cref="UplinkForwarder"/>. Defaults are documented per property; the host maps
/// the agent's <c>--uplink-*</c> settings onto them and <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed record UplinkSenderOptions
{
    /// <summary>Parents in order of preference (<c>--parent</c>, repeated). At least one, unless <see cref="FollowMesh"/>.</summary>
    public required IReadOnlyList<UplinkParent> Parents { get; init; }

    /// <summary>
    /// True: the parent is whatever <see cref="UplinkForwarder.FollowParent"/> last named (the mesh's
    /// choice), and <see cref="Parents"/> is empty; the sender idles (data stays local) until one is named.
    /// Default false.
    /// </summary>
    public bool FollowMesh { get; init; }

    /// <summary>This node's id: the <c>es-node-id</c> header and the origin of the node's own records.</summary>
    public required string NodeId { get; init; }

    /// <summary><c>edge</c> or <c>gateway</c>: the <c>es-role</c> header. A gateway relays: it reads origins from <c>es.origin.*</c> headers.</summary>
    public required string Role { get; init; }

    /// <summary>Which topics go up; internal topics (<c>__*</c>) never do. Default: every topic.</summary>
    public UplinkTopicRules Topics { get; init; } = UplinkTopicRules.All;

    /// <summary>With TLS: this node's certificate (with its key), presented to the parent. Null: h2c in clear text.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>With TLS: whether the parent's certificate is trusted (the fleet CA issued it).</summary>
    public Func<System.Security.Cryptography.X509Certificates.X509Certificate2, bool>? VerifyParent { get; init; }

    /// <summary>Frames in flight (sent, not yet answered) per connection. Default 32.</summary>
    public int Window { get; init; } = 32;

    // Buffers for a small device (--profile small): what a drain holds is the read-ahead plus the frames in
    // flight, 64 MiB and 32 frames of up to 4 MiB by default, sized for a gateway draining at hundreds of MB/s.
    // A small device's link is the limit long before that: 8 frames of at most 1 MiB in flight and 4 MiB read
    // ahead still keep busy a link whose bandwidth-delay product is under 8 MiB (64 Mbit/s at 1 s RTT).
    public const int SmallDeviceWindow = 8;
    public const int SmallDeviceInitialFrameBytes = 256 * 1024;
    public const int SmallDeviceMaxFrameBytes = 1024 * 1024;
    public const long SmallDeviceReadAheadBytes = 4L * 1024 * 1024;

    /// <summary>Smallest target frame size, uncompressed: slow acks halve the frames down to this. Default 64 KiB.</summary>
    public int MinFrameBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Starting target frame size, uncompressed (clamped to min..max), also after a reconnect.
    /// Default 1 MiB: starting at the minimum took ~60 acks to reach full speed, most of a
    /// 200 MB backlog; a slow link still halves it down within a few acks.
    /// </summary>
    public int InitialFrameBytes { get; init; } = 1024 * 1024;

    /// <summary>Largest target frame size, uncompressed. Default 4 MiB (the receiver accepts up to 16 MiB).</summary>
    public int MaxFrameBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Compressed payload bytes per second, or 0 for no cap (<c>--uplink-rate</c>). Default 0.</summary>
    public long RateBytesPerSecond { get; init; }

    /// <summary>Longest wait between reconnect attempts (<c>--uplink-max-backoff</c>). Default 30 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First reconnect delay; doubles per failed attempt (with jitter) up to <see cref="MaxBackoff"/>. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Failed attempts in a row on one parent before moving to the next. Default 3.</summary>
    public int FailoverAfter { get; init; } = 3;

    /// <summary>While on a fallback parent, how often to try the first (preferred) one again. Default 60 s.</summary>
    public TimeSpan PreferredRetryInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Delay before re-sending a frame the parent answered STORAGE_FULL or UNAVAILABLE. Default 1 s.</summary>
    public TimeSpan RetryFrameDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a partition waits after the parent answered REJECTED (a record it cannot store) before trying again.</summary>
    public TimeSpan RejectedRetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A frame unanswered this long means the connection is dead (keep-alive pings catch most cases first). Default 60 s.</summary>
    public TimeSpan AckTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often acknowledged cursors are written to meta.db (also at shutdown). Default 200 ms.</summary>
    public TimeSpan CursorFlushInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often the topic catalog is polled for new topics and partitions. Default 1 s.</summary>
    public TimeSpan TopicPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Encoded frames read ahead but not yet sent, over all partitions; beyond it leftovers are re-read later. Default 64 MiB.</summary>
    public long ReadAheadBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>HTTP/2 keep-alive ping period on an idle connection. Default 20 s.</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>A keep-alive ping unanswered this long closes the connection. Default 10 s.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Parents.Count == 0 && !FollowMesh) throw new ArgumentException("the uplink needs at least one parent");
        if (Parents.Count > 0 && FollowMesh) throw new ArgumentException("the uplink follows either the mesh or a parent list, not both");
        if (string.IsNullOrEmpty(NodeId)) throw new ArgumentException("the uplink needs the node id");
        if (Role is not ("edge" or "gateway")) throw new ArgumentException($"uplink role must be edge or gateway, not '{Role}'");
        if (Window is < 1 or > 4096) throw new ArgumentException("uplink window must be 1..4096 frames");
        if (MinFrameBytes < 1024 || MaxFrameBytes < MinFrameBytes || MaxFrameBytes > 8 * 1024 * 1024)
            throw new ArgumentException("uplink frame sizes must satisfy 1KiB <= min <= max <= 8MiB");
        if (RateBytesPerSecond < 0) throw new ArgumentException("uplink rate must not be negative");
        if (MaxBackoff <= TimeSpan.Zero || InitialBackoff <= TimeSpan.Zero) throw new ArgumentException("uplink backoff must be positive");
        if (FailoverAfter < 1) throw new ArgumentException("uplink failover threshold must be at least 1");
    }
}
