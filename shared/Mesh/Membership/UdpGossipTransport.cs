using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeStream.Mesh.Membership;

/// <summary>
/// The real transport: datagrams over UDP and push-pull over TCP, both on the same port (the
/// UDP socket is bound first, so an ephemeral port is chosen once and the TCP listener takes the
/// same number). A stream exchange is one request and one reply, each framed as a 4-byte
/// big-endian length and the payload, then the connection closes.
/// </summary>
public sealed class UdpGossipTransport : IGossipTransport
{
    /// <summary>Largest push-pull message accepted (about 10 000 members of generous metadata). Default 4 MiB.</summary>
    public const int DefaultMaxExchangeBytes = 4 * 1024 * 1024;

    // Push-pull requests served at once; beyond it a connection is closed unanswered (the peer retries next period).
    private const int MaxConcurrentExchanges = 16;
    private static readonly TimeSpan InboundTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly ILogger _logger;
    private readonly int _maxExchangeBytes;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _inbound = new(MaxConcurrentExchanges, MaxConcurrentExchanges);
    private IGossipReceiver? _receiver;
    private Task _receiveLoop = Task.CompletedTask;
    private Task _acceptLoop = Task.CompletedTask;
    private long _sendErrors;
    private int _disposed;

    /// <summary>Binds UDP and TCP on <paramref name="bind"/> (port 0: an ephemeral port, the same for both).</summary>
    public UdpGossipTransport(IPEndPoint bind, ILogger<UdpGossipTransport>? logger = null, int maxExchangeBytes = DefaultMaxExchangeBytes)
    {
        ArgumentNullException.ThrowIfNull(bind);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _maxExchangeBytes = maxExchangeBytes;
        // With port 0 the kernel picks the UDP port; the same TCP port may be taken already, so try a few.
        for (var attempt = 0; ; attempt++)
        {
            var udp = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                udp.Bind(bind);
                var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
                tcp.Bind(new IPEndPoint(bind.Address, port));
                tcp.Listen(64);
                _udp = udp;
                _tcp = tcp;
                LocalEndPoint = new IPEndPoint(bind.Address, port);
                return;
            }
            catch (SocketException ex)
            {
                udp.Dispose();
                tcp.Dispose();
                if (bind.Port != 0 || attempt >= 20)
                    throw new MeshException($"cannot bind gossip UDP and TCP on {bind}: {ex.Message}", ex);
            }
        }
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Datagrams the kernel refused to send (no route, buffer full).</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    public void Start(IGossipReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (Interlocked.CompareExchange(ref _receiver, receiver, null) is not null) throw new InvalidOperationException("transport already started");
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public void SendDatagram(IPEndPoint to, ReadOnlySpan<byte> datagram)
    {
        try
        {
            _udp.SendTo(datagram, SocketFlags.None, to);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _sendErrors);
        }
    }

    public async Task<byte[]> ExchangeAsync(IPEndPoint to, ReadOnlyMemory<byte> request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        cts.CancelAfter(timeout);
        using var socket = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(to, cts.Token).ConfigureAwait(false);
            await WriteFrameAsync(socket, request, cts.Token).ConfigureAwait(false);
            return await ReadFrameAsync(socket, _maxExchangeBytes, cts.Token).ConfigureAwait(false)
                ?? throw new MeshException($"push-pull peer {to} closed without a reply");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            throw new MeshException($"push-pull with {to} timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch (SocketException ex)
        {
            throw new MeshException($"push-pull with {to} failed: {ex.SocketErrorCode}", ex);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        // One buffer, reused: the receiver decodes each datagram before returning.
        var buffer = new byte[65_536];
        EndPoint any = new IPEndPoint(LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var result = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stopping.Token).ConfigureAwait(false);
                _receiver!.OnDatagram((IPEndPoint)result.RemoteEndPoint, buffer.AsMemory(0, result.ReceivedBytes));
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // e.g. an ICMP port-unreachable reported on the socket: one peer is gone, the socket is fine.
                MembershipLog.ReceiveFailed(_logger, LocalEndPoint, ex.SocketErrorCode.ToString());
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                MembershipLog.ReceiveFailed(_logger, LocalEndPoint, ex.SocketErrorCode.ToString());
                continue;
            }
            if (!_inbound.Wait(0))
            {
                client.Dispose();
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        var remote = client.RemoteEndPoint as IPEndPoint;
        try
        {
            using (client)
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                cts.CancelAfter(InboundTimeout);
                client.NoDelay = true;
                var request = await ReadFrameAsync(client, _maxExchangeBytes, cts.Token).ConfigureAwait(false);
                if (request is null || remote is null) return;
                var reply = _receiver!.OnExchange(remote, request);
                if (reply is not null) await WriteFrameAsync(client, reply, cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or MeshException or ObjectDisposedException)
        {
            MembershipLog.ExchangeFailed(_logger, LocalEndPoint, remote, ex.Message);
        }
        finally
        {
            _inbound.Release();
        }
    }

    private static async Task WriteFrameAsync(Socket socket, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, payload.Length);
        await socket.SendAsync(header, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var sent = 0;
        while (sent < payload.Length)
            sent += await socket.SendAsync(payload[sent..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null when the peer closed before sending one. The length is checked before anything is allocated.</summary>
    private static async Task<byte[]?> ReadFrameAsync(Socket socket, int maxBytes, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        if (!await ReadExactlyAsync(socket, header, cancellationToken).ConfigureAwait(false)) return null;
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length <= 0 || length > maxBytes) throw new MeshException($"push-pull frame of {length} bytes is outside 1..{maxBytes}");
        var payload = new byte[length];
        if (!await ReadExactlyAsync(socket, payload, cancellationToken).ConfigureAwait(false))
            throw new MeshException("push-pull frame truncated");
        return payload;
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new MeshException("push-pull frame truncated");
            }
            read += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        _udp.Dispose();
        _tcp.Dispose();
        try
        {
            await Task.WhenAll(_receiveLoop, _acceptLoop).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The loops end by these when their sockets close under them.
        }
        // _stopping and _inbound are not disposed: a connection being served may still release or
        // read them, and neither holds anything but memory.
    }
}
