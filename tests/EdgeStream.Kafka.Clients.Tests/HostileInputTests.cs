using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.Records;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Raw bytes over TCP against a real agent: framing violations close the connection, bad requests get
/// an error code and the connection stays, and nothing of it hurts the node or later clients.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    // An agent of each test's own: xUnit makes an instance of this class per test.
    private readonly SharedAgent _agent = SharedAgent.Edge();
    private AgentNode Node => _agent.Node;

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();


    /// <summary>True when the agent closed the connection (EOF or reset) within the timeout.</summary>
    private static Task<bool> ClosedByPeerAsync(Socket socket, TimeSpan timeout) => KafkaWire.ClosedByPeerAsync(socket, timeout);






    private async Task AssertApiVersionsAnsweredAsync(Socket socket, int correlationId)
    {
        await socket.SendAsync(RawKafka.Request((short)ApiKey.ApiVersions, 3, correlationId, new ApiVersionsRequest { ClientSoftwareName = "hostile", ClientSoftwareVersion = "1" }), SocketFlags.None);
        var frame = await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Equal(correlationId, BinaryPrimitives.ReadInt32BigEndian(frame));
    }

    private async Task AssertHealthyAsync() => await Node.Process.WaitForHealthyAsync(Node.HttpPort, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task FramingViolations_EachOne_ConnectionClosedAgentUnharmed()
    {
        var random = new Random(7);

        // (a) random bytes: whatever they mean, the agent must neither crash nor hang on to them.
        for (var i = 0; i < 20; i++)
        {
            using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);
            var junk = new byte[random.Next(1, 2048)];
            random.NextBytes(junk);
            await socket.SendAsync(junk, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "random bytes then EOF: connection left open");
        }

        // (b) size prefix above socket.request.max.bytes (100 MiB) and (c) a negative size: closed before any buffering.
        foreach (var size in new[] { 200 * 1024 * 1024, int.MaxValue, -1, int.MinValue })
        {
            using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);
            var prefix = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(prefix, size);
            await socket.SendAsync(prefix, SocketFlags.None);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), $"size {size}: connection left open");
        }

        // (d) an unknown api key: Kafka closes the connection (there is no response format to answer in).
        using (var socket = await KafkaWire.ConnectAsync(Node.KafkaPort))
        {
            var frame = new byte[4 + 10];
            BinaryPrimitives.WriteInt32BigEndian(frame, 10);
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), 999);  // api_key
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 0);    // api_version
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(8), 1);    // correlation_id
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(12), -1);  // client_id: null
            await socket.SendAsync(frame, SocketFlags.None);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "unknown api key: connection left open");
        }

        // (e) a truncated frame, then the client goes away.
        using (var socket = await KafkaWire.ConnectAsync(Node.KafkaPort))
        {
            var whole = RawKafka.Request((short)ApiKey.ApiVersions, 3, 1, new ApiVersionsRequest { ClientSoftwareName = "x", ClientSoftwareVersion = "1" });
            await socket.SendAsync(whole.AsMemory(0, whole.Length - 3), SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "truncated frame then EOF: connection left open");
        }

        await AssertHealthyAsync();
        await AssertClientsStillWorkAsync();
    }

    [Fact]
    public async Task ApiVersions_VersionNewerThanOurs_AnsweredInV0WithUnsupportedVersionAndOurRanges()
    {
        using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);
        // A client newer than us asks with ApiVersions v99 (KIP-511): the broker must answer in v0
        // (header v0) with UNSUPPORTED_VERSION and its own ranges, and keep the connection open.
        await socket.SendAsync(RawKafka.Request((short)ApiKey.ApiVersions, 99, 42, new ApiVersionsRequest()), SocketFlags.None);
        var frame = await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10));
        var reader = new KafkaReader(frame.AsMemory());
        Assert.Equal(42, ResponseHeader.Read(ref reader, 0).CorrelationId);
        var response = new ApiVersionsResponse();
        response.Read(ref reader, 0);
        Assert.Equal(35, response.ErrorCode); // UNSUPPORTED_VERSION
        var produce = Assert.Single(response.ApiKeys, k => k.ApiKey == (short)ApiKey.Produce);
        Assert.True(produce.MaxVersion >= 9);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == (short)ApiKey.ApiVersions && k.MaxVersion >= 3);
        await AssertApiVersionsAnsweredAsync(socket, 43);
    }

    [Fact]
    public async Task Produce_BadCrcAndTooLarge_ErrorCodesConnectionStaysOpen()
    {
        const short version = 9;
        using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);

        // (f) a correct request whose batch has one byte flipped inside the CRC-covered records.
        var batch = new RecordBatchBuilder().Add("k"u8.ToArray(), "some value"u8.ToArray(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Build();
        batch[^2] ^= 0x5A;
        await socket.SendAsync(RawKafka.ProduceRequest("hostile-crc", batch, version), SocketFlags.None);
        var response = RawKafka.ReadProduceResponse(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), version, 7);
        Assert.Equal(2, response.Responses.Single().PartitionResponses.Single().ErrorCode); // CORRUPT_MESSAGE
        await AssertApiVersionsAnsweredAsync(socket, 100);

        // (g) a valid batch above max.message.bytes (1 MiB by default).
        var big = new RecordBatchBuilder().Add(null, new byte[1024 * 1024 + 100], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).Build();
        await socket.SendAsync(RawKafka.ProduceRequest("hostile-big", big, version), SocketFlags.None);
        response = RawKafka.ReadProduceResponse(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), version, 7);
        Assert.Equal(10, response.Responses.Single().PartitionResponses.Single().ErrorCode); // MESSAGE_TOO_LARGE
        await AssertApiVersionsAnsweredAsync(socket, 101);

        await AssertHealthyAsync();
        await AssertClientsStillWorkAsync();
    }

    [Fact]
    public async Task GarbageConnections_TwoThousand_MemoryBoundedAgentHealthy()
    {
        var random = new Random(11);
        var sw = Stopwatch.StartNew();
        var done = 0;
        // Bounded in count and in time; several connections at once, as a scanner would.
        for (var round = 0; round < 250 && sw.Elapsed < TimeSpan.FromSeconds(60); round++)
        {
            var tasks = new Task[8];
            for (var t = 0; t < tasks.Length; t++)
            {
                var seed = random.Next();
                tasks[t] = Task.Run(async () =>
                {
                    var r = new Random(seed);
                    using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);
                    var junk = new byte[r.Next(4, 4096)];
                    r.NextBytes(junk);
                    // Every other connection claims a big frame it never sends, which must not be allocated up front.
                    if (r.Next(2) == 0) BinaryPrimitives.WriteInt32BigEndian(junk, r.Next(1_000_000, 100 * 1024 * 1024));
                    await socket.SendAsync(junk, SocketFlags.None);
                    socket.Close(0); // reset, not a clean close
                });
            }
            await Task.WhenAll(tasks);
            done += tasks.Length;
        }
        Assert.True(done >= 2000, $"only {done} garbage connections in {sw.Elapsed}");

        await AssertHealthyAsync();
        var rssKb = ReadVmRssKb(Node.Process.Pid);
        Assert.True(rssKb < 400 * 1024, $"agent RSS {rssKb} kB after {done} garbage connections");
        await AssertClientsStillWorkAsync();
    }

    private static long ReadVmRssKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
        }
        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }

    private async Task AssertClientsStillWorkAsync()
    {
        var topic = Unique.Name("after-hostile");
        using (var producer = Clients.Producer(Clients.ProducerConfig(Node.Bootstrap)))
        {
            var r = await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = "still fine"u8.ToArray() });
            Assert.Equal(0, r.Offset.Value);
        }
        var seen = Clients.ReadAll(Node.Bootstrap, topic, [0], 0, 1, TimeSpan.FromSeconds(20));
        Assert.Equal("still fine", Encoding.UTF8.GetString(Assert.Single(seen).Value!));
    }
}
