using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>Confluent.Kafka (librdkafka 2.x) against a real agent, no client settings changed for EdgeStream.</summary>
[Collection(SharedAgentCollection.Name)]
public class ConfluentKafkaTests(SharedAgent agent)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<CompressionType, Acks> CodecsAndAcks()
    {
        var data = new TheoryData<CompressionType, Acks>();
        foreach (var codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            data.Add(codec, Acks.Leader);
            data.Add(codec, Acks.All);
        }
        return data;
    }

    private static Message<byte[], byte[]> MakeMessage(Random random, int i, long timestamp)
    {
        // Sizes vary so that batches hold several records and some values compress well, some not at all.
        var key = i % 10 == 0 ? null! : Encoding.UTF8.GetBytes($"key-{i}");
        var value = new byte[random.Next(0, 1500)];
        if (i % 2 == 0) random.NextBytes(value);
        else Array.Fill(value, (byte)('a' + i % 26));
        var headers = new Headers();
        for (var h = 0; h < i % 4; h++)
        {
            var hv = new byte[random.Next(0, 40)];
            random.NextBytes(hv);
            headers.Add($"h{h}", hv);
        }
        return new Message<byte[], byte[]> { Key = key, Value = value, Headers = headers, Timestamp = new Timestamp(timestamp, TimestampType.CreateTime) };
    }

    [Theory]
    [MemberData(nameof(CodecsAndAcks))]
    public void ProduceConsume_EachCodecAndAcks_RecordsByteIdenticalOffsetsContiguous(CompressionType codec, Acks acks)
    {
        var topic = Unique.Name($"codec-{codec}-{acks}".ToLowerInvariant());
        const int count = 300;
        var random = new Random(42);
        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 100_000;
        var sent = Enumerable.Range(0, count).Select(i => MakeMessage(random, i, baseTime + i)).ToList();

        var offsets = new long[count];
        using (var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap, acks, codec)))
        {
            var tp = new TopicPartition(topic, 0);
            for (var i = 0; i < count; i++)
            {
                var index = i;
                producer.Produce(tp, sent[i], report =>
                {
                    Assert.True(report.Error.Code == ErrorCode.NoError, $"record {index}: {report.Error}");
                    offsets[index] = report.Offset.Value;
                });
            }
            Clients.FlushOrFail(producer, s_timeout);
        }
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), offsets);

        var seen = Clients.ReadAll(agent.Bootstrap, topic, [0], 0, count, s_timeout);
        Assert.True(seen.Count == count, $"read {seen.Count} of {count}.\n{Clients.Diagnostics()}");
        for (var i = 0; i < count; i++)
        {
            var (m, s) = (sent[i], seen[i]);
            Assert.Equal(i, s.Offset);
            Assert.Equal(m.Key, s.Key);
            Assert.Equal(m.Value, s.Value);
            Assert.Equal(m.Timestamp.UnixTimestampMs, s.TimestampMs);
            Assert.Equal(m.Headers.Select(h => (h.Key, h.GetValueBytes())), s.Headers);
        }
    }

    [Fact]
    public void Produce_AcksZero_RecordsArrive()
    {
        var topic = Unique.Name("acks0");
        const int count = 50;
        using (var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap, Acks.None)))
        {
            for (var i = 0; i < count; i++)
                producer.Produce(new TopicPartition(topic, 0), new Message<byte[], byte[]> { Key = [(byte)i], Value = Encoding.UTF8.GetBytes($"v{i}") });
            Clients.FlushOrFail(producer, s_timeout);
        }
        // acks=0 gets no answer: the consumer polls until every record is there or the deadline passes.
        var seen = Clients.ReadAll(agent.Bootstrap, topic, [0], 0, count, s_timeout);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"v{i}"), seen.Select(s => Encoding.UTF8.GetString(s.Value!)));
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), seen.Select(s => s.Offset));
    }

    [Fact]
    public void ProduceConsume_HundredThousandRecordsSixPartitions_AllBackInOrderPerPartition()
    {
        var topic = Unique.Name("bulk");
        const int count = 100_000;
        var config = Clients.ProducerConfig(agent.Bootstrap, Acks.All, CompressionType.Lz4);
        config.EnableIdempotence = true; // retries must not reorder
        config.LingerMs = 10;
        var delivered = new Dictionary<(int Partition, long Offset), (byte[] Key, byte[] Value)>(count);
        var errors = 0;
        using (var producer = Clients.Producer(config))
        {
            for (var i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetBytes($"k{i % 1009}");
                var value = new byte[100];
                Encoding.UTF8.GetBytes($"value-{i:D8}-").CopyTo(value, 0);
                value.AsSpan(15).Fill((byte)(i % 251));
                var message = new Message<byte[], byte[]> { Key = key, Value = value };
                while (true)
                {
                    try
                    {
                        producer.Produce(topic, message, r =>
                        {
                            if (r.Error.Code != ErrorCode.NoError) Interlocked.Increment(ref errors);
                            else lock (delivered) delivered[(r.Partition.Value, r.Offset.Value)] = (key, value);
                        });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                    }
                }
            }
            Clients.FlushOrFail(producer, TimeSpan.FromSeconds(90));
        }
        Assert.Equal(0, errors);
        Assert.Equal(count, delivered.Count);
        var byPartition = delivered.Keys.GroupBy(k => k.Partition).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byPartition.Count == 6, $"keys spread over {byPartition.Count} partitions");

        var seen = Clients.ReadAll(agent.Bootstrap, topic, [0, 1, 2, 3, 4, 5], 0, count, TimeSpan.FromSeconds(90));
        Assert.Equal(count, seen.Count);
        var next = new long[6];
        var lastPerKey = new Dictionary<string, int>();
        foreach (var s in seen)
        {
            // Per partition the offsets come back 0, 1, 2, ... and each holds what the producer was told it holds.
            Assert.Equal(next[s.Partition]++, s.Offset);
            var (key, value) = delivered[(s.Partition, s.Offset)];
            Assert.Equal(key, s.Key);
            Assert.Equal(value, s.Value);
            // Per key the production order is kept.
            var k = Encoding.UTF8.GetString(s.Key!);
            var n = int.Parse(Encoding.UTF8.GetString(s.Value!, 6, 8));
            if (lastPerKey.TryGetValue(k, out var prev)) Assert.True(n > prev, $"key {k}: {n} after {prev}");
            lastPerKey[k] = n;
        }
        foreach (var (p, n) in byPartition) Assert.Equal(n, next[p]);
    }

    [Fact]
    public async Task QueryWatermarkOffsetsAndOffsetsForTimes_AfterProduce_ReportLogOffsets()
    {
        var topic = Unique.Name("offsets");
        var tp = new TopicPartition(topic, 0);
        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000_000;
        const int count = 20;
        using (var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
        {
            // One record per request so each batch has its own timestamp range.
            for (var i = 0; i < count; i++)
            {
                var r = await producer.ProduceAsync(tp, new Message<byte[], byte[]> { Value = [(byte)i], Timestamp = new Timestamp(baseTime + i * 1000, TimestampType.CreateTime) });
                Assert.Equal(i, r.Offset.Value);
            }
        }

        using var consumer = LogReader.Consumer(agent.Bootstrap);
        var watermarks = consumer.QueryWatermarkOffsets(tp, s_timeout);
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(count, watermarks.High.Value);

        var times = consumer.OffsetsForTimes(
        [
            new TopicPartitionTimestamp(tp, new Timestamp(baseTime - 5, TimestampType.CreateTime)),
        ], s_timeout);
        Assert.Equal(0, Assert.Single(times).Offset.Value);
        // The first record with timestamp >= t: record 6 has baseTime + 6000.
        times = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(baseTime + 5500, TimestampType.CreateTime))], s_timeout);
        Assert.Equal(6, Assert.Single(times).Offset.Value);
        times = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(baseTime + 19_000, TimestampType.CreateTime))], s_timeout);
        Assert.Equal(19, Assert.Single(times).Offset.Value);
        // Later than every record: no offset (-1, which the client calls End).
        times = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(baseTime + 50_000, TimestampType.CreateTime))], s_timeout);
        Assert.Equal(Offset.End, Assert.Single(times).Offset);
    }

    /// <summary>ListOffsets MAX_TIMESTAMP (KIP-734) through the admin API: the first record with the largest timestamp.</summary>
    [Fact]
    public async Task AdminListOffsets_MaxTimestamp_FirstRecordWithTheLargestTimestamp()
    {
        var topic = Unique.Name("maxts");
        var tp = new TopicPartition(topic, 0);
        var t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000_000;
        long[] offsetsOfTimes = [0, 5000, 2000, 5000, 1000];
        using (var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
        {
            foreach (var delta in offsetsOfTimes)
                await producer.ProduceAsync(tp, new Message<byte[], byte[]> { Value = [1], Timestamp = new Timestamp(t + delta, TimestampType.CreateTime) });
        }
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = agent.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();
        var result = await admin.ListOffsetsAsync([new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.MaxTimestamp() }]);
        var info = Assert.Single(result.ResultInfos);
        Assert.Equal(1, info.TopicPartitionOffsetError.Offset.Value);
        Assert.Equal(t + 5000, info.Timestamp);

        // Latest is still the high watermark.
        var latest = await admin.ListOffsetsAsync([new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.Latest() }]);
        Assert.Equal(5, Assert.Single(latest.ResultInfos).TopicPartitionOffsetError.Offset.Value);
    }

    /// <summary>MAX_TIMESTAMP inside one batch: the record carrying the largest timestamp, not the batch's first.</summary>
    [Fact]
    public async Task AdminListOffsets_MaxTimestampInsideOneBatch_OffsetOfThatRecord()
    {
        var topic = Unique.Name("maxts-batch");
        var tp = new TopicPartition(topic, 0);
        var t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000_000;
        long[] offsetsOfTimes = [3000, 1000, 9000, 2000, 9000, 4000];
        var config = Clients.ProducerConfig(agent.Bootstrap);
        // A long linger and one flush put all six records in one batch.
        config.LingerMs = 1000;
        using (var producer = Clients.Producer(config))
        {
            var sent = offsetsOfTimes.Select(delta => producer.ProduceAsync(tp, new Message<byte[], byte[]> { Value = [2], Timestamp = new Timestamp(t + delta, TimestampType.CreateTime) })).ToList();
            producer.Flush(s_timeout);
            var reports = await Task.WhenAll(sent);
            Assert.Equal([0L, 1, 2, 3, 4, 5], reports.Select(r => r.Offset.Value));
        }
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = agent.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build();

        var result = await admin.ListOffsetsAsync([new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.MaxTimestamp() }]);

        var info = Assert.Single(result.ResultInfos);
        Assert.Equal(2, info.TopicPartitionOffsetError.Offset.Value);
        Assert.Equal(t + 9000, info.Timestamp);
    }

    [Fact]
    public async Task Consume_WaitingAtEnd_ReceivesRecordProducedLater()
    {
        var topic = Unique.Name("longpoll");
        var tp = new TopicPartition(topic, 0);
        using var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap));
        await producer.ProduceAsync(tp, new Message<byte[], byte[]> { Value = "first"u8.ToArray() });

        using var consumer = LogReader.Consumer(agent.Bootstrap);
        consumer.Assign(new TopicPartitionOffset(tp, 1));
        // The consumer is at the end once a poll comes back empty (each poll waits up to 300 ms itself).
        var empty = await Wait.UntilAsync(() => consumer.Consume(TimeSpan.FromMilliseconds(300)) is null, s_timeout, TimeSpan.Zero);
        Assert.True(empty, "the consumer returned records past the end");

        var consume = Task.Run(() => consumer.Consume(TimeSpan.FromSeconds(20)));
        var produced = await producer.ProduceAsync(tp, new Message<byte[], byte[]> { Value = "later"u8.ToArray() });
        var record = await consume;
        Assert.NotNull(record);
        Assert.Equal(produced.Offset, record.Offset);
        Assert.Equal("later", Encoding.UTF8.GetString(record.Message.Value));
    }
}
