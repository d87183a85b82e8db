using System.Net;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Server;

/// <summary>What a handler knows about the request beyond its body.</summary>
public sealed class KafkaRequestContext
{
    public required RequestHeader Header { get; init; }
    public short Version => Header.ApiVersion;
    /// <summary>The address the client connected to; advertised when no host is configured.</summary>
    public EndPoint? LocalEndPoint { get; init; }
    /// <summary>The client's address: the client host DescribeGroups reports.</summary>
    public EndPoint? RemoteEndPoint { get; init; }
    public CancellationToken ConnectionClosed { get; init; }
}

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

    public void Dispose()
    {
        if (_resources is null) return;
        foreach (var r in _resources) r.Dispose();
    }
}
