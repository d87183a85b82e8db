using System.Net;

namespace EdgeStream.Mesh.Membership;

/// <summary>What a transport hands incoming traffic to (the membership engine).</summary>
public interface IGossipReceiver
{
    /// <summary>
    /// One datagram from <paramref name="from"/>. The memory is only valid during the call (the
    /// transport reuses its buffer); the receiver decodes it before returning.
    /// </summary>
    void OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram);

    /// <summary>One stream request (push-pull): returns the reply, or null to close without one.</summary>
    byte[]? OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request);
}

/// <summary>
/// How membership reaches its peers: best-effort datagrams for probes and gossip (UDP), and a
/// request/reply exchange over a reliable stream for full-state push-pull (TCP). The engine needs
/// nothing else, so a simulated network can stand in for tests and benchmarks.
/// </summary>
public interface IGossipTransport : IAsyncDisposable
{
    /// <summary>Where this transport receives (after binding: the ephemeral port is known).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Starts delivering incoming datagrams and exchanges to <paramref name="receiver"/>. Called once.</summary>
    void Start(IGossipReceiver receiver);

    /// <summary>Sends one datagram, best effort: a network error is counted, never thrown (UDP may lose it anyway).</summary>
    void SendDatagram(IPEndPoint to, ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Sends <paramref name="request"/> over a new stream to <paramref name="to"/> and returns the reply.
    /// Throws <see cref="MeshException"/> when the peer cannot be reached, closes without a reply or
    /// does not answer within <paramref name="timeout"/>.
    /// </summary>
    Task<byte[]> ExchangeAsync(IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default);
}
