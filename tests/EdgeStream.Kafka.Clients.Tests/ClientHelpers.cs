using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>One agent shared by the client tests that neither restart it nor measure it.</summary>
public sealed class SharedAgent : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private AgentNode? _node;

    public AgentNode Node => _node ?? throw new InvalidOperationException("not started");
    public string Bootstrap => Node.Bootstrap;

    public async Task InitializeAsync() => _node = await AgentNode.StartAsync(_dir.Combine("data"), "edge", "--partitions", "6");

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _dir.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SharedAgentCollection : ICollectionFixture<SharedAgent>
{
    public const string Name = "shared agent";
}

/// <summary>A record as a consumer saw it, bytes compared as-is.</summary>
public sealed record Seen(int Partition, long Offset, byte[]? Key, byte[]? Value, long TimestampMs, IReadOnlyList<(string Key, byte[] Value)> Headers);

/// <summary>Confluent.Kafka (librdkafka) clients with their chatter kept out of the test output.</summary>
public static class Clients
{
    /// <summary>librdkafka's log lines, kept so a failing test can show them.</summary>
    public static readonly ConcurrentQueue<string> Log = new();

    private static void Keep(LogMessage m)
    {
        Log.Enqueue($"{m.Level} {m.Facility} {m.Message}");
        while (Log.Count > 2000 && Log.TryDequeue(out _)) { }
    }

    public static string UniqueTopic(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 200)];

    public static ProducerConfig ProducerConfig(string bootstrap, Acks acks = Acks.All, CompressionType compression = CompressionType.None) => new()
    {
        BootstrapServers = bootstrap,
        Acks = acks,
        CompressionType = compression,
        LingerMs = 5,
        MessageTimeoutMs = 60_000,
        // Loopback only: no need to wait for the address family fallback.
        BrokerAddressFamily = BrokerAddressFamily.V4,
    };

    public static IProducer<byte[], byte[]> Producer(ProducerConfig config) =>
        new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, m) => Keep(m)).SetErrorHandler((_, e) => Log.Enqueue($"error {e.Code} {e.Reason}")).Build();

    public static IConsumer<byte[], byte[]> Consumer(string bootstrap) =>
        new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            // Confluent.Kafka insists on a group id; these consumers only Assign, never join or commit.
            GroupId = "edgestream-clients-tests",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            FetchWaitMaxMs = 100,
        }).SetLogHandler((_, m) => Keep(m)).SetErrorHandler((_, e) => Log.Enqueue($"error {e.Code} {e.Reason}")).Build();

    /// <summary>
    /// Assigns the partitions, seeks each to <paramref name="from"/> and consumes until <paramref name="expected"/>
    /// records came back or the deadline passes (then returns what it has, for the caller to assert on).
    /// </summary>
    public static List<Seen> ReadAll(string bootstrap, string topic, IReadOnlyList<int> partitions, long from, int expected, TimeSpan timeout)
    {
        using var consumer = Consumer(bootstrap);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        foreach (var p in partitions) consumer.Seek(new TopicPartitionOffset(topic, p, from));
        var seen = new List<Seen>(expected);
        var sw = Stopwatch.StartNew();
        while (seen.Count < expected && sw.Elapsed < timeout)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null || r.IsPartitionEOF) continue;
            seen.Add(ToSeen(r));
        }
        consumer.Close();
        return seen;
    }

    public static Seen ToSeen(ConsumeResult<byte[], byte[]> r) => new(
        r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value, r.Message.Timestamp.UnixTimestampMs,
        r.Message.Headers is null ? [] : r.Message.Headers.Select(h => (h.Key, h.GetValueBytes())).ToList());

    public static string Diagnostics() => string.Join('\n', Log.TakeLast(40));

    /// <summary>Flushes, failing the test if anything is still queued after the timeout.</summary>
    public static void FlushOrFail(IProducer<byte[], byte[]> producer, TimeSpan timeout)
    {
        var left = producer.Flush(timeout);
        Assert.True(left == 0, $"{left} messages still queued after {timeout}.\n{Diagnostics()}");
    }
}
