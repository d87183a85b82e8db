using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>A record as a consumer at some tier saw it.</summary>
public sealed record Arrived(string Topic, int Partition, long Offset, byte[]? Key, byte[]? Value, IReadOnlyList<(string Key, byte[] Value)> Headers)
{
    public string? Header(string name)
    {
        foreach (var (k, v) in Headers) if (k == name) return Encoding.UTF8.GetString(v);
        return null;
    }

    public string OriginNode => Header("es.origin.node") ?? "";
    public string OriginTopic => Header("es.origin.topic") ?? "";
    public int OriginPartition => int.Parse(Header("es.origin.partition") ?? "-1");
    public long OriginOffset => long.Parse(Header("es.origin.offset") ?? "-1");

    /// <summary>The user's headers: everything but the uplink's origin headers.</summary>
    public IEnumerable<(string Key, byte[] Value)> UserHeaders => Headers.Where(h => !h.Key.StartsWith("es.origin.", StringComparison.Ordinal));
}

/// <summary>Producing at one tier and reading at another with Confluent.Kafka.</summary>
public static class Hierarchy
{
    public const int Partitions = 3;

    /// <summary>Deterministic record i: key, 100-byte value and two headers, so any tier can check bytes.</summary>
    public static Message<byte[], byte[]> Record(string tag, int i)
    {
        var value = new byte[100];
        new Random(i).NextBytes(value);
        Encoding.ASCII.GetBytes($"{tag}:{i:D8}").CopyTo(value, 0);
        return new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes($"{tag}-key-{i % 97}"),
            Value = value,
            Headers = new Headers { { "seq", Encoding.ASCII.GetBytes(i.ToString()) }, { "tag", Encoding.ASCII.GetBytes(tag) } },
        };
    }

    /// <summary>Produces records [from, to) of <paramref name="tag"/> into <paramref name="topic"/> and waits for every ack.</summary>
    public static void Produce(string bootstrap, string topic, string tag, int from, int to)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(KafkaTls.For(bootstrap, new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        })).SetLogHandler((_, _) => { }).Build();
        var failed = 0;
        string? firstError = null;
        for (var i = from; i < to; i++)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, Record(tag, i), r =>
                    {
                        if (r.Error.IsError && Interlocked.Increment(ref failed) == 1) firstError = r.Error.ToString();
                    });
                    break;
                }
                catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        var left = producer.Flush(TimeSpan.FromSeconds(120));
        Assert.True(left == 0, $"{left} records still unacknowledged after 120 s");
        Assert.True(failed == 0, $"{failed} records failed, first: {firstError}");
    }

    /// <summary>
    /// Everything <paramref name="node"/> holds of <paramref name="topic"/> once nothing more can come:
    /// first waits until each of <paramref name="senders"/> (the nodes forwarding it towards
    /// <paramref name="node"/>, lowest tier first) has had every record it holds of the topic
    /// acknowledged by its parent (<see cref="AgentNode.UplinkDrainedAsync"/>), then reads the log to
    /// its end. A parent acknowledges only what is durable, and a drained sender sends nothing more,
    /// so a duplicate would be in the log by then: no quiet period to wait out. If the senders do not
    /// drain within <paramref name="timeout"/>, returns what is there for the caller's assertions.
    /// </summary>
    public static async Task<List<Arrived>> ReadAllAsync(AgentNode node, string topic, TimeSpan timeout, params AgentNode[] senders)
    {
        await Wait.UntilAsync(async () =>
        {
            // In order: once a lower tier is drained, the tier above holds all of it.
            foreach (var sender in senders)
                if (!await sender.UplinkDrainedAsync(topic)) return false;
            return true;
        }, timeout, TimeSpan.FromMilliseconds(500));
        return ReadToEnd(node.Bootstrap, topic, timeout);
    }

    /// <summary>Every record of <paramref name="topic"/> at <paramref name="bootstrap"/> up to its high watermark now.</summary>
    public static List<Arrived> ReadToEnd(string bootstrap, string topic, TimeSpan timeout)
    {
        var arrived = new List<Arrived>();
        foreach (var r in LogReader.ReadToEnd(bootstrap, topic, timeout))
        {
            var headers = new List<(string, byte[])>();
            if (r.Message.Headers is { } hs) foreach (var h in hs) headers.Add((h.Key, h.GetValueBytes()));
            arrived.Add(new Arrived(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value, headers));
        }
        return arrived;
    }

    /// <summary>
    /// The delivery contract at the top tier for records produced by <paramref name="tag"/> [0, count):
    /// every one exactly once, bytes identical, origin headers naming <paramref name="originNode"/>,
    /// and per origin partition in origin-offset order.
    /// </summary>
    public static void AssertExactlyOnce(IReadOnlyList<Arrived> arrived, string tag, int count, string originNode, string originTopic, bool checkOrder = true)
    {
        var mine = arrived.Where(a => a.Header("tag") == tag).ToList();
        var bySeq = mine.GroupBy(a => int.Parse(a.Header("seq")!)).ToDictionary(g => g.Key, g => g.Count());
        var missing = Enumerable.Range(0, count).Where(i => !bySeq.ContainsKey(i)).Take(10).ToList();
        var twice = bySeq.Where(kv => kv.Value > 1).Select(kv => kv.Key).Take(10).ToList();
        Assert.True(missing.Count == 0, $"{tag}: {count - bySeq.Count(kv => kv.Key < count)} records missing, e.g. {string.Join(",", missing)}");
        Assert.True(twice.Count == 0, $"{tag}: records arrived more than once, e.g. {string.Join(",", twice)}");
        Assert.Equal(count, mine.Count);

        foreach (var a in mine)
        {
            var i = int.Parse(a.Header("seq")!);
            var expected = Record(tag, i);
            Assert.Equal(expected.Key, a.Key);
            Assert.Equal(expected.Value, a.Value);
            Assert.Equal(["seq", "tag"], a.UserHeaders.Select(h => h.Key));
            Assert.Equal(originNode, a.OriginNode);
            Assert.Equal(originTopic, a.OriginTopic);
        }

        // Order: within one origin partition, origin offsets only grow along each tier partition.
        if (!checkOrder) return;
        foreach (var g in mine.GroupBy(a => (a.Topic, a.Partition, a.OriginPartition)))
        {
            var offsets = g.OrderBy(a => a.Offset).Select(a => a.OriginOffset).ToList();
            for (var k = 1; k < offsets.Count; k++)
                Assert.True(offsets[k] > offsets[k - 1], $"origin partition {g.Key.OriginPartition}: offset {offsets[k]} after {offsets[k - 1]}");
        }
    }
}
