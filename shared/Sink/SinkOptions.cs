using EdgeStream.Uplink.Sending;

namespace EdgeStream.Sink;

/// <summary>Where and what the sink forwards (<c>--sink</c> and the <c>--sink-*</c> settings).</summary>
public sealed class SinkOptions
{
    /// <summary>Bootstrap brokers of the external cluster (<c>HOST:PORT</c>), tried in turn.</summary>
    public required IReadOnlyList<string> Bootstrap { get; init; }

    /// <summary>This node's id: the origin of records produced straight into it.</summary>
    public required string NodeId { get; init; }

    /// <summary>Which local topics go out and their names at the external cluster.</summary>
    public UplinkTopicRules Topics { get; init; } = UplinkTopicRules.All;

    /// <summary>
    /// How long a partition waits when the external cluster lacks an origin's earlier records (another
    /// cloud node may hold and still deliver them) before writing anyway, out of order.
    /// </summary>
    public TimeSpan GapWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>After another node wrote an origin's records, how long it must stay quiet before this node writes that origin.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between attempts while the external cluster fails (the retries never stop).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes of records per produce request (one batch per target partition).</summary>
    public int MaxBatchBytes { get; init; } = 900 * 1024;

    /// <summary>Timeout of one request to the external cluster.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>TLS toward the external cluster (<c>--sink-tls-ca</c>, <c>--sink-tls-cert</c>); null = clear text.</summary>
    public EdgeStream.Kafka.Client.KafkaClientTls? Tls { get; init; }

    /// <summary>SASL toward the external cluster (<c>--sink-sasl</c>); null = none.</summary>
    public EdgeStream.Kafka.Client.KafkaClientSasl? Sasl { get; init; }

    /// <summary>Kafka's name for how the sink reaches the cluster: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.</summary>
    public string SecurityProtocol => (Sasl, Tls) switch
    {
        (null, null) => "PLAINTEXT",
        (null, _) => "SSL",
        (_, null) => "SASL_PLAINTEXT",
        _ => "SASL_SSL",
    };

    /// <summary>
    /// Parses <c>kafka://HOST:PORT[,HOST:PORT]</c> into its bootstrap list.
    /// </summary>
    /// <exception cref="FormatException">With the expected form as its message.</exception>
    public static IReadOnlyList<string> ParseUrl(string text)
    {
        const string scheme = "kafka://";
        text = text.Trim();
        if (!text.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new FormatException("expected kafka://HOST:PORT[,HOST:PORT]");
        var list = new List<string>();
        foreach (var part in text[scheme.Length..].TrimEnd('/').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!EdgeStream.Kafka.Client.BrokerAddress.TryParse(part, out var address, out _))
                throw new FormatException($"expected kafka://HOST:PORT[,HOST:PORT]; '{part}' is not HOST:PORT");
            list.Add(address.Value.ToString());
        }
        return list.Count > 0 ? list : throw new FormatException("expected kafka://HOST:PORT[,HOST:PORT] with at least one broker");
    }
}
