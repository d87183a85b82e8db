namespace EdgeStream.Kafka.Server;

/// <summary>Options of the Kafka wire-protocol listener. Defaults follow Kafka's broker defaults.</summary>
public sealed class KafkaBrokerOptions
{
    /// <summary>The broker id clients see in metadata. A single node is its own cluster.</summary>
    public int BrokerId { get; init; } = 1;
    /// <summary>Cluster id reported in Metadata and DescribeCluster.</summary>
    public string ClusterId { get; init; } = "edgestream";
    /// <summary>Host clients are told to connect to; null means the address they connected to.</summary>
    public string? AdvertisedHost { get; init; }
    /// <summary>Port clients are told to connect to; 0 means the listener's port.</summary>
    public int AdvertisedPort { get; init; }
    /// <summary>socket.request.max.bytes: frames larger than this close the connection. Default 100 MiB.</summary>
    public int MaxRequestBytes { get; init; } = 100 * 1024 * 1024;
    /// <summary>
    /// How many requests of one connection may be in progress at once (responses stay in order).
    /// Under --fsync group every produce waits for an fsync, and the requests in progress together
    /// share one: with 16 a client sending small requests at 10 000 records/s fell behind
    /// (p50 280 ms); with 128, 4 ms (docs/BENCHMARKS.md, kafka-produce at a fixed rate). Default 128.
    /// </summary>
    public int MaxInFlightPerConnection { get; init; } = 128;
    /// <summary>Request bytes one connection may have in progress (one request is always admitted). Default 64 MiB.</summary>
    public long MaxInFlightBytesPerConnection { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// max.incremental.fetch.session.cache.slots: incremental fetch sessions (KIP-227) kept at once,
    /// least recently used evicted first; 0 turns sessions off (every fetch is a full one). Default 1000.
    /// </summary>
    public int FetchSessionCacheSlots { get; init; } = 1000;

    /// <summary>
    /// SASL mechanisms the listener offers (<c>PLAIN</c>, <c>SCRAM-SHA-256</c>, <c>SCRAM-SHA-512</c>). Empty
    /// (the default): no authentication, every client is served. Otherwise a client must authenticate
    /// before anything but ApiVersions and SASL.
    /// </summary>
    public IReadOnlyList<string> SaslMechanisms { get; init; } = [];

    /// <summary>
    /// Principals (<c>User:NAME</c>) allowed the user administration APIs (Describe/AlterUserScramCredentials).
    /// Empty: nobody may use them over Kafka (the <c>edgestream users</c> verb still works on a stopped node).
    /// </summary>
    public IReadOnlyList<string> SuperUsers { get; init; } = [];

    public bool RequiresSasl => SaslMechanisms.Count > 0;

    public void Validate()
    {
        foreach (var m in SaslMechanisms)
            if (m is not ("PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512")) throw new ConfigurationException($"Kafka SASL mechanism '{m}' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.");
        if (FetchSessionCacheSlots < 0) throw new ConfigurationException("Kafka fetch session cache slots cannot be negative.");
        if (MaxRequestBytes < 1024) throw new ConfigurationException("Kafka max request size must be at least 1 KiB.");
        if (MaxInFlightPerConnection < 1) throw new ConfigurationException("Kafka in-flight requests per connection must be at least 1.");
        if (MaxInFlightBytesPerConnection < 1) throw new ConfigurationException("Kafka in-flight bytes per connection must be positive.");
        if (AdvertisedPort is < 0 or > 65535) throw new ConfigurationException($"Kafka advertised port {AdvertisedPort} is not a port.");
    }
}
