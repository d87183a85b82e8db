using System.Buffers;
using System.Net;
using System.Text;
using EdgeStream.Mesh.Gossip;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// Gossip authenticated and encrypted with the cluster's <see cref="GossipKeyring"/>: every datagram and
/// both halves of every push-pull exchange are sealed on the way out and opened on the way in. What no key
/// opens (another key, clear text from a node without one, tampering) is dropped and counted before the
/// membership sees a byte of it. It sits under <see cref="ScopedGossipTransport"/>: the scope is inside
/// the sealed envelope.
/// </summary>
public sealed class EncryptedGossipTransport : IGossipTransport, IGossipReceiver
{
    // The additional data binds a sealed message to its channel: a captured push-pull cannot be replayed as a datagram, nor the reverse.
    private static readonly byte[] DatagramLabel = Encoding.ASCII.GetBytes("edgestream gossip datagram");
    private static readonly byte[] ExchangeLabel = Encoding.ASCII.GetBytes("edgestream gossip push-pull");


    private readonly IGossipTransport _inner;
    private readonly GossipKeyring _keyring;
    private readonly ILogger _logger;
    private IGossipReceiver? _receiver;
    private long _datagramsRejected;
    private long _exchangesRejected;
    // A peer with the wrong key retries every few seconds: one warning a minute says so without flooding the log.
    private readonly LogThrottle _rejectionLog = new(TimeSpan.FromMinutes(1));

    /// <summary>Seals what goes through <paramref name="inner"/> with <paramref name="keyring"/>; both are disposed with this transport.</summary>
    public EncryptedGossipTransport(IGossipTransport inner, GossipKeyring keyring, ILogger<EncryptedGossipTransport>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(keyring);
        _inner = inner;
        _keyring = keyring;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    public IPEndPoint LocalEndPoint => _inner.LocalEndPoint;

    /// <summary>Keys in the ring (the primary included).</summary>
    public int KeyCount => _keyring.Count;

    /// <summary>Datagrams dropped because no key authenticated them.</summary>
    public long DatagramsRejected => Interlocked.Read(ref _datagramsRejected);

    /// <summary>Push-pull requests and replies dropped because no key authenticated them.</summary>
    public long ExchangesRejected => Interlocked.Read(ref _exchangesRejected);

    public void Start(IGossipReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null) throw new InvalidOperationException("transport already started");
        _inner.Start(this);
    }

    public void SendDatagram(IPEndPoint to, ReadOnlySpan<byte> datagram)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(GossipKeyring.SealedLength(datagram.Length));
        try
        {
            var length = _keyring.Seal(datagram, DatagramLabel, buffer);
            _inner.SendDatagram(to, buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<byte[]> ExchangeAsync(IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var reply = await _inner.ExchangeAsync(to, _keyring.Seal(request.Span, ExchangeLabel), timeout, cancellationToken).ConfigureAwait(false);
        if (_keyring.TryOpen(reply, ExchangeLabel) is { } opened) return opened;
        Rejected(ref _exchangesRejected, to, "push-pull reply");
        throw new MeshException($"push-pull reply from {to} failed authentication (another gossip key, or none)");
    }

    void IGossipReceiver.OnDatagram(IPEndPoint from, ReadOnlyMemory<byte> datagram)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        try
        {
            if (_keyring.TryOpen(datagram.Span, DatagramLabel, buffer, out var length)) _receiver!.OnDatagram(from, buffer.AsMemory(0, length));
            else Rejected(ref _datagramsRejected, from, "datagram");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    byte[]? IGossipReceiver.OnExchange(IPEndPoint from, ReadOnlyMemory<byte> request)
    {
        if (_keyring.TryOpen(request.Span, ExchangeLabel) is not { } opened)
        {
            Rejected(ref _exchangesRejected, from, "push-pull request");
            return null;
        }
        return _receiver!.OnExchange(from, opened) is { } reply ? _keyring.Seal(reply, ExchangeLabel) : null;
    }

    private void Rejected(ref long counter, IPEndPoint from, string what)
    {
        var count = Interlocked.Increment(ref counter);
        if (_rejectionLog.TryEnter(out _)) GossipSecurityLog.Rejected(_logger, what, from, count);
    }

    public async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        _keyring.Dispose();
    }
}
