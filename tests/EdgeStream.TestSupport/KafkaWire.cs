using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>Kafka frames over a raw loopback socket (a 4-byte big-endian size, then the frame): for tests that need exact bytes and error codes.</summary>
public static class KafkaWire
{
    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Reads one response frame (without its size prefix); fails the test if the agent closes the connection first.</summary>
    public static async Task<byte[]> ReadFrameAsync(Socket socket, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var prefix = new byte[4];
        await ReadExactlyAsync(socket, prefix, cts.Token);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        Assert.InRange(size, 0, 16 * 1024 * 1024);
        var frame = new byte[size];
        await ReadExactlyAsync(socket, frame, cts.Token);
        return frame;
    }

    /// <summary>Whether the agent closes the connection (EOF or reset) within <paramref name="timeout"/>, discarding what it sends meanwhile.</summary>
    public static async Task<bool> ClosedByPeerAsync(Socket socket, TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0) return true;
            }
        }
        catch (SocketException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            Assert.True(n > 0, "the agent closed the connection");
            read += n;
        }
    }
}
