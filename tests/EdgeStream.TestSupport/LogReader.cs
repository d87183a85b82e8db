using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>
/// librdkafka's log and error lines of the Confluent.Kafka clients tests make: kept out of the test
/// output, the last 2000 at hand for a failing test's message.
/// </summary>
public static class KafkaClientLog
{
    private static readonly ConcurrentQueue<string> s_lines = new();

    public static void Add(string line)
    {
        s_lines.Enqueue(line);
        while (s_lines.Count > 2000 && s_lines.TryDequeue(out _)) { }
    }

    public static void Add(LogMessage message) => Add($"{message.Level} {message.Facility} {message.Message}");

    public static void Add(Error error) => Add($"error {error.Code} {error.Reason}");

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public static string Recent(int count = 40) => string.Join('\n', s_lines.TakeLast(count));
}

/// <summary>
/// Reads a node's log back with Confluent.Kafka (librdkafka), as a user would: partitions assigned,
/// no group joined, nothing committed. One consumer set-up for every test project.
/// </summary>
public static class LogReader
{
    private static readonly TimeSpan s_request = TimeSpan.FromSeconds(20);

    /// <summary>A consumer that reads from the log start of whatever it is assigned; dispose it.</summary>
    public static IConsumer<byte[], byte[]> Consumer(string bootstrap) =>
        new ConsumerBuilder<byte[], byte[]>(KafkaTls.For(bootstrap, new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            // Confluent.Kafka insists on a group id; these consumers only Assign, never join or commit.
            GroupId = "edgestream-tests",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Loopback only: no need to wait for the address family fallback.
            BrokerAddressFamily = BrokerAddressFamily.V4,
            FetchWaitMaxMs = 100,
        })).SetLogHandler((_, m) => KafkaClientLog.Add(m)).SetErrorHandler((_, e) => KafkaClientLog.Add(e)).Build();

    /// <summary>
    /// Reads <paramref name="partitions"/> (partition 0 by default) of <paramref name="topic"/> from
    /// <paramref name="from"/> (the log start by default) until <paramref name="expected"/> records
    /// came back or the deadline passes; returns what it has, for the caller to assert on. For a
    /// record that is still on its way; to see everything a node holds, <see cref="ReadToEnd"/>.
    /// </summary>
    public static List<ConsumeResult<byte[], byte[]>> Read(string bootstrap, string topic, int expected, TimeSpan timeout,
        IReadOnlyList<int>? partitions = null, Offset? from = null)
    {
        using var consumer = Consumer(bootstrap);
        consumer.Assign((partitions ?? [0]).Select(p => new TopicPartitionOffset(topic, p, from ?? Offset.Beginning)));
        var seen = new List<ConsumeResult<byte[], byte[]>>();
        var sw = Stopwatch.StartNew();
        while (seen.Count < expected && sw.Elapsed < timeout)
        {
            var r = Consume(consumer);
            if (r is not null) seen.Add(r);
        }
        consumer.Close();
        return seen;
    }

    /// <summary>
    /// Every record of every partition of <paramref name="topic"/>, from <paramref name="from"/> (the
    /// log start by default; an offset that is gone moves to the earliest) up to the high watermark
    /// the partition has when the read starts (an unknown topic reads as empty). Whatever a node
    /// acknowledged before the call is durable and below that mark, so this sees it all, duplicates
    /// included: the read to use for "exactly once" and "nothing else".
    /// </summary>
    public static List<ConsumeResult<byte[], byte[]>> ReadToEnd(string bootstrap, string topic, TimeSpan? timeout = null, Offset? from = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var consumer = Consumer(bootstrap);
        var ends = new Dictionary<int, long>();
        foreach (var partition in Partitions(consumer, topic))
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), s_request);
            if (w.High.Value > w.Low.Value) ends[partition] = w.High.Value; // an empty partition has nothing to wait for
        }
        var open = new HashSet<int>(ends.Keys);
        consumer.Assign(open.Select(p => new TopicPartitionOffset(topic, p, from ?? Offset.Beginning)));
        var seen = new List<ConsumeResult<byte[], byte[]>>();
        var sw = Stopwatch.StartNew();
        while (open.Count > 0 && sw.Elapsed < limit)
        {
            var r = Consume(consumer);
            if (r is null) continue;
            var end = ends[r.Partition.Value];
            if (r.Offset.Value < end) seen.Add(r); // later appends are not part of this read
            if (r.Offset.Value >= end - 1) open.Remove(r.Partition.Value);
        }
        consumer.Close();
        Assert.True(open.Count == 0, $"{topic}: partitions {string.Join(',', open)} not read to their high watermark within {limit}.\n{KafkaClientLog.Recent()}");
        return seen;
    }

    /// <summary>The low and high watermark of one partition.</summary>
    public static WatermarkOffsets Watermarks(string bootstrap, string topic, int partition = 0)
    {
        using var consumer = Consumer(bootstrap);
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), s_request);
    }

    /// <summary>The high watermark of every partition of <paramref name="topic"/>, by partition; empty for an unknown topic.</summary>
    public static Dictionary<int, long> HighWatermarks(string bootstrap, string topic)
    {
        using var consumer = Consumer(bootstrap);
        return Partitions(consumer, topic).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), s_request).High.Value);
    }

    /// <summary>How many records of <paramref name="topic"/> a node holds (high minus low watermark, over its partitions); 0 for an unknown topic.</summary>
    public static long Count(string bootstrap, string topic)
    {
        using var consumer = Consumer(bootstrap);
        long total = 0;
        foreach (var p in Partitions(consumer, topic))
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), s_request);
            total += w.High.Value - w.Low.Value;
        }
        return total;
    }

    /// <summary>The partition count of <paramref name="topic"/> in the broker's metadata (0 for an unknown topic).</summary>
    public static int PartitionCount(string bootstrap, string topic)
    {
        using var consumer = Consumer(bootstrap);
        return Partitions(consumer, topic).Count;
    }

    // Metadata through the consumer's own handle: a consumer does not ask the broker to auto-create the topic.
    private static List<int> Partitions(IConsumer<byte[], byte[]> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(topic, s_request);
        }
        catch (KafkaException)
        {
            return [];
        }
        var t = metadata.Topics.FirstOrDefault(x => x.Topic == topic);
        return t is null || t.Error.IsError ? [] : [.. t.Partitions.Select(p => p.PartitionId).Order()];
    }

    private static ConsumeResult<byte[], byte[]>? Consume(IConsumer<byte[], byte[]> consumer)
    {
        try
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            return r is null || r.IsPartitionEOF ? null : r;
        }
        catch (ConsumeException ex) when (ex.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
            // A topic can appear later (an uplink creates it at the parent with its first frame): poll on.
            return null;
        }
    }
}
