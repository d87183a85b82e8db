namespace EdgeStream.Kafka.Server;

/// <summary>
/// A response body and what must be released once it has been written (pooled log reads).
/// A null response (acks=0 produce) means nothing is sent back.
/// </summary>
public sealed class KafkaResponse : IDisposable
{
    private readonly List<IDisposable>? _resources;

    public KafkaResponse(Protocol.Messages.IKafkaMessage body, List<IDisposable>? resources = null)
    {
        Body = body;
        _resources = resources;
    }

    public Protocol.Messages.IKafkaMessage Body { get; }

    /// <summary>Close the connection once this response is written (a failed SASL authentication, as Kafka does).</summary>
    public bool CloseAfter { get; init; }

    /// <summary>
    /// Written as a bare SASL token (KIP-43, after SaslHandshake v0): the size and the body's auth bytes,
    /// no response header; nothing at all when the body carries an error.
    /// </summary>
    public bool BareToken { get; init; }

    public void Dispose()
    {
        if (_resources is null) return;
        foreach (var r in _resources) r.Dispose();
    }
}
