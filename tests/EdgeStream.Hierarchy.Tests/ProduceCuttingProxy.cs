using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Test-only TCP proxy in front of a Kafka listener that resets a connection (both sides, RST) right
/// after forwarding its <c>cutAfterProduces</c>-th Produce request, for the first <c>cuts</c> connections
/// that get that far. The broker then holds that produce (and maybe answers it into the void), the
/// produces the client wrote after it never arrive or arrive torn, and the client learns none of their
/// fates: a window of produces in flight, some landed, none acknowledged. Start the broker with
/// <c>--kafka-advertised 127.0.0.1:{Port}</c> so clients come back through the proxy.
/// </summary>
public sealed class ProduceCuttingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly List<Socket> _sockets = [];
    private readonly Task _accept;
    private readonly int _upstreamPort;
    private readonly int _cutAfterProduces;
    private int _cutsLeft;
    private int _cutsDone;

    public ProduceCuttingProxy(int port, int upstreamPort, int cuts, int cutAfterProduces)
    {
        _upstreamPort = upstreamPort;
        _cutsLeft = cuts;
        _cutAfterProduces = cutAfterProduces;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accept = AcceptAsync();
    }

    /// <summary>Connections reset so far.</summary>
    public int CutsDone => Volatile.Read(ref _cutsDone);

    private async Task AcceptAsync()
    {
        try
        {
            // Bounded: the test makes a handful of connections; far more means something loops.
            for (var accepted = 0; accepted < 10_000 && !_stop.IsCancellationRequested; accepted++)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _upstreamPort), _stop.Token);
                }
                catch (SocketException)
                {
                    // The broker is down: the client sees its connection refused, as without the proxy.
                    Reset(client, upstream);
                    continue;
                }
                lock (_pumps)
                {
                    _sockets.Add(client);
                    _sockets.Add(upstream);
                    _pumps.Add(RequestsAsync(client, upstream));
                    _pumps.Add(ResponsesAsync(upstream, client));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>Client to broker, counting Produce frames (size, then api key 0 as the first int16 of the header).</summary>
    private async Task RequestsAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        var header = new byte[6];
        var headerLength = 0;
        var remaining = 0; // bytes of the current frame still to come after its first six
        var isProduce = false;
        var produces = 0;
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                var forward = n;
                var cut = false;
                for (var pos = 0; pos < n && !cut;)
                {
                    if (remaining == 0)
                    {
                        header[headerLength++] = buffer[pos++];
                        if (headerLength < header.Length) continue;
                        headerLength = 0;
                        remaining = BinaryPrimitives.ReadInt32BigEndian(header) - 2;
                        isProduce = BinaryPrimitives.ReadInt16BigEndian(header.AsSpan(4)) == 0;
                        continue;
                    }
                    var take = Math.Min(remaining, n - pos);
                    pos += take;
                    remaining -= take;
                    if (remaining == 0 && isProduce && ++produces == _cutAfterProduces && Interlocked.Decrement(ref _cutsLeft) >= 0)
                    {
                        forward = pos;
                        cut = true;
                    }
                }
                await to.SendAsync(buffer.AsMemory(0, forward), SocketFlags.None, _stop.Token);
                if (cut)
                {
                    Interlocked.Increment(ref _cutsDone);
                    Reset(from, to);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
        Close(to);
    }

    private async Task ResponsesAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
        Close(to);
    }

    private static void Reset(params Socket[] sockets)
    {
        foreach (var s in sockets)
        {
            try
            {
                s.LingerState = new LingerOption(true, 0);
                s.Close();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }
    }

    private static void Close(Socket socket)
    {
        try { socket.Shutdown(SocketShutdown.Send); }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accept; }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
        Task[] pumps;
        lock (_pumps) pumps = [.. _pumps];
        await Task.WhenAll(pumps);
        lock (_pumps) foreach (var s in _sockets) s.Dispose();
        _stop.Dispose();
    }
}
