using System.Text;
using Confluent.Kafka;

namespace EdgeStream.Uplink.Sender.Tests;

/// <summary>A record as the producer wrote it, with where it landed.</summary>
public sealed record Produced(int Partition, long Offset, byte[] Key, byte[] Value, IReadOnlyList<(string Key, byte[] Value)> Headers);

public static class SenderHelpers
{
    /// <summary>Produces records key "k{i}", value "value-{i}", headers n=i and kind=test; returns what was acknowledged.</summary>
    public static List<Produced> Produce(string bootstrap, string topic, int from, int count)
    {
        var produced = new List<Produced>(count);
        var errors = new List<string>();
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            LingerMs = 5,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).SetLogHandler((_, _) => { }).Build())
        {
            for (var i = from; i < from + count; i++)
            {
                var headers = new Headers { { "n", Encoding.UTF8.GetBytes(i.ToString()) }, { "kind", Encoding.UTF8.GetBytes("test") } };
                var message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes("k" + i), Value = Encoding.UTF8.GetBytes("value-" + i), Headers = headers };
                producer.Produce(topic, message, dr =>
                {
                    lock (produced)
                    {
                        if (dr.Error.IsError) errors.Add(dr.Error.Reason);
                        else produced.Add(new Produced(dr.Partition.Value, dr.Offset.Value, dr.Message.Key, dr.Message.Value,
                            dr.Message.Headers.Select(h => (h.Key, h.GetValueBytes())).ToList()));
                    }
                });
            }
            var left = producer.Flush(TimeSpan.FromSeconds(60));
            Assert.True(left == 0, $"{left} records not delivered");
        }
        Assert.True(errors.Count == 0, "produce errors: " + string.Join("; ", errors.Distinct()));
        Assert.Equal(count, produced.Count);
        return produced;
    }

    /// <summary>
    /// Asserts the fake parent holds every produced record exactly once, in offset order per
    /// partition, with key, value, timestamp-independent headers byte for byte.
    /// </summary>
    public static void AssertExactlyOnce(FakeParentState state, string node, string topic, IEnumerable<Produced> produced)
    {
        Assert.Empty(state.Problems);
        foreach (var group in produced.GroupBy(p => p.Partition))
        {
            var expected = group.OrderBy(p => p.Offset).ToList();
            var stream = state.Stream(node, topic, group.Key);
            // Nothing else writes the topic: offsets 0..n-1, no gaps, no extras.
            Assert.Equal(expected.Select(p => p.Offset), stream.Keys);
            foreach (var p in expected)
            {
                var r = stream[p.Offset];
                Assert.Equal(p.Key, r.Key);
                Assert.Equal(p.Value, r.Value);
                Assert.Equal(p.Headers.Select(h => h.Key), r.Headers.Select(h => h.Key));
                Assert.Equal(p.Headers.Select(h => h.Value), r.Headers.Select(h => h.Value));
            }
        }
        Assert.Equal(produced.Select(p => p.Partition).Distinct().Count(), state.StreamKeys.Count);
    }
}
