namespace EdgeStream.Kafka.Client;

/// <summary>Settings of a <see cref="KafkaClient"/> and its connections.</summary>
public sealed class KafkaClientOptions
{
    /// <summary>The client id every request carries (brokers log it). Default <c>edgestream</c>.</summary>
    public string ClientId { get; init; } = "edgestream";

    /// <summary>How long a TCP connect plus the ApiVersions handshake may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the broker may take to answer one request, on top of any wait the request itself asks
    /// for (a fetch's max wait). Default 30 s, Kafka's request.timeout.ms.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest response frame accepted; a bigger size prefix is a protocol violation. Default 100 MiB.</summary>
    public int MaxResponseBytes { get; init; } = Protocol.Primitives.KafkaFraming.DefaultMaxFrameSize;

    /// <summary>TLS toward every broker (SSL, or SASL_SSL with <see cref="Sasl"/>); null = clear text.</summary>
    public KafkaClientTls? Tls { get; init; }

    /// <summary>SASL authentication on every connection (SASL_PLAINTEXT, or SASL_SSL with <see cref="Tls"/>); null = none.</summary>
    public KafkaClientSasl? Sasl { get; init; }

    internal void Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), "must be positive");
        if (RequestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RequestTimeout), "must be positive");
        if (MaxResponseBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxResponseBytes), "must be at least 1 KiB");
    }
}
