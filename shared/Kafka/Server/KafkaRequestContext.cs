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
    /// <summary>The connection's authentication and principal.</summary>
    public required KafkaSession Session { get; init; }
}
