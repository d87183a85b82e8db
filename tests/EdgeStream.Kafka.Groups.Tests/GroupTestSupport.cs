using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>One agent (six partitions per auto-created topic) shared by the tests that do not restart it.</summary>
[CollectionDefinition(Name)]
public sealed class SharedAgentCollection : ICollectionFixture<SharedAgent>
{
    public const string Name = "shared agent";
}

/// <summary>Confluent.Kafka clients with librdkafka's chatter kept out of the test output (see <see cref="KafkaClientLog"/>).</summary>
public static class Clients
{
    public static IProducer<string, string> Producer(string bootstrap) =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 5, BrokerAddressFamily = BrokerAddressFamily.V4 })
            .SetLogHandler((_, m) => KafkaClientLog.Add(m)).Build();

    /// <summary>Produces <paramref name="count"/> records spread round-robin over <paramref name="partitions"/> partitions; values are "v{i}".</summary>
    public static void Produce(string bootstrap, string topic, int count, int partitions = 6)
    {
        using var producer = Producer(bootstrap);
        for (var i = 0; i < count; i++)
            producer.Produce(new TopicPartition(topic, i % partitions), new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    public static ConsumerConfig GroupConfig(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        // Short clocks keep rebalances within a test's budget; 6 s is our chosen session floor for tests.
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 500,
        MaxPollIntervalMs = 10000,
        FetchWaitMaxMs = 100,
        TopicMetadataRefreshIntervalMs = 1000,
    };

    public static ConsumerBuilder<string, string> Builder(ConsumerConfig config) =>
        new ConsumerBuilder<string, string>(config)
            .SetLogHandler((_, m) => KafkaClientLog.Add(m))
            .SetErrorHandler((_, e) => KafkaClientLog.Add(e));

    public static string RecentLog() => KafkaClientLog.Recent(60);
}

/// <summary>
/// A group member polled on its own thread (a Confluent consumer is not thread-safe): it keeps
/// its current assignment and what it consumed, and can commit each record synchronously.
/// </summary>
public sealed class Member : IAsyncDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private volatile TopicPartition[] _assignment = [];
    private int _revocations;
    private int _errors;

    /// <param name="countDelivered">
    /// Count every record delivered to the application (what it would process), committed or not,
    /// so a commit lost to a rebalance shows as a duplicate. Otherwise, with <paramref name="commitEach"/>,
    /// a record counts once its commit succeeded.
    /// </param>
    public Member(ConsumerConfig config, string topic, bool commitEach, ConcurrentQueue<(int Partition, long Offset)> seen, bool countDelivered = false)
    {
        _consumer = Clients.Builder(config)
            .SetPartitionsRevokedHandler((_, revoked) => Interlocked.Add(ref _revocations, revoked.Count))
            .Build();
        _consumer.Subscribe(topic);
        _loop = Task.Factory.StartNew(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var r = _consumer.Consume(100);
                    _assignment = [.. _consumer.Assignment];
                    if (r is null || r.IsPartitionEOF) continue;
                    // With synchronous commits a record counts as consumed once its commit succeeded: a commit
                    // refused during a rebalance (REBALANCE_IN_PROGRESS) leaves it to the partition's next owner.
                    if (countDelivered) seen.Enqueue((r.Partition.Value, r.Offset.Value));
                    if (commitEach) _consumer.Commit(r);
                    if (!countDelivered) seen.Enqueue((r.Partition.Value, r.Offset.Value));
                }
                catch (KafkaException ex)
                {
                    if (ex.Error.Code != ErrorCode.Local_TimedOut) Interlocked.Increment(ref _errors);
                    KafkaClientLog.Add($"member: {ex.Error.Code} {ex.Error.Reason}");
                }
            }
        }, TaskCreationOptions.LongRunning);
    }

    public IReadOnlyList<int> Partitions => [.. _assignment.Select(tp => tp.Partition.Value).Order()];
    public int Revocations => Volatile.Read(ref _revocations);

    /// <summary>Errors thrown by Consume or Commit (a refused commit among them); librdkafka's local poll timeouts excepted.</summary>
    public int Errors => Volatile.Read(ref _errors);

    /// <summary>Stops polling and leaves the group (Close sends LeaveGroup for a dynamic member, commits nothing more).</summary>
    public async Task CloseAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        await _loop;
        _consumer.Close();
        _consumer.Dispose();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();
}

/// <summary>Raw Kafka requests over one TCP connection, encoded with the codec.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private int _correlation;

    private RawConnection(Socket socket) => _socket = socket;

    public static async Task<RawConnection> OpenAsync(AgentNode node) => new(await KafkaWire.ConnectAsync(node.KafkaPort));

    /// <summary>Sends a request and returns the task of its response (JoinGroup may be held for a while).</summary>
    public async Task<TResponse> SendAsync<TResponse>(IKafkaApiMessage request, short version, TimeSpan? timeout = null)
        where TResponse : IKafkaMessage, new()
    {
        var id = Interlocked.Increment(ref _correlation);
        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteRequest(output, new RequestHeader { ApiKey = (short)request.MessageApiKey, ApiVersion = version, CorrelationId = id, ClientId = "raw-test" }, request);
        await _socket.SendAsync(output.WrittenMemory, SocketFlags.None);
        var frame = await KafkaWire.ReadFrameAsync(_socket, timeout ?? TimeSpan.FromSeconds(20));
        var reader = new KafkaReader(frame.AsMemory());
        var header = ResponseHeader.Read(ref reader, KafkaHeaders.ResponseHeaderVersion((short)request.MessageApiKey, version));
        Assert.Equal(id, header.CorrelationId);
        var response = new TResponse();
        response.Read(ref reader, version);
        return response;
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// Records produced round-robin over six partitions in small bursts while a test changes a group's
/// membership, so members are consuming and committing whenever the group moves partitions.
/// </summary>
public sealed class SteadyProducer
{
    private readonly Task _producing;
    private int _produced;

    /// <param name="already">Records produced before (counted in <see cref="Produced"/>).</param>
    public SteadyProducer(string bootstrap, string topic, int already, int count = 600)
    {
        _produced = already;
        _producing = Task.Run(async () =>
        {
            using var producer = Clients.Producer(bootstrap);
            for (var i = 0; i < count; i++)
            {
                producer.Produce(new TopicPartition(topic, i % 6), new Message<string, string> { Key = $"s{i}", Value = $"s{i}" });
                Interlocked.Increment(ref _produced);
                if (i % 10 == 9) await Task.Delay(25);
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        });
    }

    public int Produced => Volatile.Read(ref _produced);

    public Task Completion => _producing;

    /// <summary>Waits until every produced record was seen, then asserts each was seen exactly once.</summary>
    public async Task AssertEveryRecordOnceAsync(ConcurrentQueue<(int Partition, long Offset)> seen, TimeSpan timeout)
    {
        await _producing;
        Assert.True(await Wait.UntilAsync(() => seen.Distinct().Count() >= Produced, timeout),
            $"consumed {seen.Distinct().Count()} distinct of {Produced}\n{Clients.RecentLog()}");
        var counts = seen.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.Count == Produced && counts.Values.All(n => n == 1),
            $"{counts.Count} distinct of {seen.Count} consumed, {Produced} produced; twice: {string.Join(' ', counts.Where(kv => kv.Value > 1).Take(10).Select(kv => kv.Key))}\n{Clients.RecentLog()}");
    }
}
