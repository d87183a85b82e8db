using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>Kafka requests as raw frames over a socket, built and read with our codec: for tests that need exact bytes and error codes.</summary>
internal static class RawKafka
{
    public static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    public static byte[] Request(short apiKey, short version, int correlationId, IKafkaMessage body)
    {
        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteRequest(output, new RequestHeader { ApiKey = apiKey, ApiVersion = version, CorrelationId = correlationId, ClientId = "hostile" }, body);
        return output.WrittenSpan.ToArray();
    }

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

    public static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            Assert.True(n > 0, "the agent closed the connection");
            read += n;
        }
    }

    public static ProduceResponse ReadProduceResponse(byte[] frame, short version, int correlationId)
    {
        var reader = new KafkaReader(frame.AsMemory());
        var header = ResponseHeader.Read(ref reader, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.Produce, version));
        Assert.Equal(correlationId, header.CorrelationId);
        var response = new ProduceResponse();
        response.Read(ref reader, version);
        return response;
    }

    public static byte[] ProduceRequest(string topic, byte[] batch, short version, short acks = -1, int correlationId = 7) => Request((short)ApiKey.Produce, version, correlationId, new ProduceRequest
    {
        Acks = acks,
        TimeoutMs = 10_000,
        TopicData = { new ProduceRequest.TopicProduceData { Name = topic, PartitionData = { new ProduceRequest.PartitionProduceData { Index = 0, Records = batch } } } },
    });
}
