using System.Net.Sockets;
using EdgeStream.Records;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Idempotent-producer semantics on the wire (KIP-98), with hand-built batches so each case is
/// exact: a retried batch gets its original offset and is not written again, a sequence gap gets
/// OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH, and the state survives a
/// kill -9 of the agent because it is rebuilt from the log.
/// </summary>
public sealed class IdempotenceProtocolTests : IAsyncLifetime
{
    private const short Version = 9;
    private const long ProducerId = 4242;
    // An agent of each test's own: xUnit makes an instance of this class per test.
    private readonly SharedAgent _agent = SharedAgent.Edge();
    private AgentNode Node => _agent.Node;

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();

    private static byte[] Batch(short epoch, int baseSequence, int count, long producerId = ProducerId)
    {
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence };
        for (var i = 0; i < count; i++)
            builder.Add(null, System.Text.Encoding.UTF8.GetBytes($"e{epoch}-s{baseSequence + i}"), 1_700_000_000_000);
        return builder.Build();
    }

    private async Task<(short Error, long BaseOffset)> ProduceAsync(Socket socket, byte[] batch, int correlationId)
    {
        await socket.SendAsync(RawKafka.ProduceRequest("idem", batch, Version, correlationId: correlationId), SocketFlags.None);
        var response = RawKafka.ReadProduceResponse(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(15)), Version, correlationId);
        var partition = response.Responses.Single().PartitionResponses.Single();
        return (partition.ErrorCode, partition.BaseOffset);
    }

    [Fact]
    public async Task Produce_WithAProducerIdReservedForUplinkOrigins_IsRefused()
    {
        using var socket = await KafkaWire.ConnectAsync(Node.KafkaPort);
        // 2^62 and up mark uplink origin streams, whose de-duplication state is rebuilt from these ids.
        Assert.Equal(59, (await ProduceAsync(socket, Batch(0, 0, 1, producerId: 1L << 62), 1)).Error); // UNKNOWN_PRODUCER_ID
        Assert.Equal(59, (await ProduceAsync(socket, Batch(0, 0, 1, producerId: long.MaxValue), 2)).Error);
    }

    [Fact]
    public async Task Produce_RetriesGapsStaleEpochsAndRestart_KafkaErrorCodesAndNoDuplicates()
    {
        using (var socket = await KafkaWire.ConnectAsync(Node.KafkaPort))
        {
            Assert.Equal((0, 0L), await ProduceAsync(socket, Batch(0, 0, 3), 1));
            Assert.Equal((0, 3L), await ProduceAsync(socket, Batch(0, 3, 2), 2));
            // A retry of either of the last batches: the original offset, nothing written.
            Assert.Equal((0, 0L), await ProduceAsync(socket, Batch(0, 0, 3), 3));
            Assert.Equal((0, 3L), await ProduceAsync(socket, Batch(0, 3, 2), 4));
            // A gap: sequence 7 when 5 is next.
            Assert.Equal(45, (await ProduceAsync(socket, Batch(0, 7, 1), 5)).Error); // OUT_OF_ORDER_SEQUENCE_NUMBER
            // A new epoch starts again at 0; the old epoch is fenced from then on.
            Assert.Equal((0, 5L), await ProduceAsync(socket, Batch(1, 0, 1), 6));
            Assert.Equal(47, (await ProduceAsync(socket, Batch(0, 5, 1), 7)).Error); // INVALID_PRODUCER_EPOCH
        }

        await Node.RestartAsync(kill: true);

        using (var socket = await KafkaWire.ConnectAsync(Node.KafkaPort))
        {
            // Rebuilt from the log: the retry is still recognised, the next sequence still expected.
            Assert.Equal((0, 5L), await ProduceAsync(socket, Batch(1, 0, 1), 8));
            Assert.Equal(45, (await ProduceAsync(socket, Batch(1, 2, 1), 9)).Error);
            Assert.Equal((0, 6L), await ProduceAsync(socket, Batch(1, 1, 1), 10));
        }

        // Exactly the seven accepted records are in the log, once each: every produce above was
        // answered, so the log's end holds all they wrote.
        var values = Clients.ReadToEnd(Node.Bootstrap, "idem").Select(r => System.Text.Encoding.UTF8.GetString(r.Value!)).ToList();
        Assert.Equal(["e0-s0", "e0-s1", "e0-s2", "e0-s3", "e0-s4", "e1-s0", "e1-s1"], values);
    }
}
