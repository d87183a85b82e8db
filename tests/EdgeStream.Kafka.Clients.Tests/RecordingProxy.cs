using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Test-only TCP proxy in front of the agent that keeps every byte clients send, so the request
/// frames real clients produce can be checked against the codec and kept as fixtures. Start the
/// agent with <c>--kafka-advertised 127.0.0.1:{Port}</c> so that clients come back through it.
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<MemoryStream> _connections = [];
    private readonly List<Task> _pumps = [];
    private readonly Task _accept;
    private readonly int _upstreamPort;

    /// <summary>Listens on 127.0.0.1:<paramref name="port"/> (0: any free port) and forwards to 127.0.0.1:<paramref name="upstreamPort"/>.</summary>
    public RecordingProxy(int upstreamPort, int port = 0)
    {
        _upstreamPort = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptAsync();
    }

    public int Port { get; }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _upstreamPort), _stop.Token);
                var captured = new MemoryStream();
                lock (_connections)
                {
                    _connections.Add(captured);
                    _pumps.Add(PumpAsync(client, upstream, captured));
                    _pumps.Add(PumpAsync(upstream, client, null));
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task PumpAsync(Socket from, Socket to, MemoryStream? capture)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                if (capture is not null) lock (capture) capture.Write(buffer, 0, n);
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException) { }
        finally
        {
            try { to.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }
    }

    /// <summary>Every whole request frame (size prefix included) clients sent so far, per connection in order.</summary>
    public List<byte[]> RequestFrames()
    {
        var frames = new List<byte[]>();
        lock (_connections)
        {
            foreach (var c in _connections)
            {
                byte[] bytes;
                lock (c) bytes = c.ToArray();
                var at = 0;
                while (bytes.Length - at >= 4)
                {
                    var size = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
                    if (size < 0 || bytes.Length - at - 4 < size) break;
                    frames.Add(bytes.AsSpan(at, 4 + size).ToArray());
                    at += 4 + size;
                }
            }
        }
        return frames;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accept;
        Task[] pumps;
        lock (_connections) pumps = [.. _pumps];
        await Task.WhenAll(pumps);
        _stop.Dispose();
    }
}
