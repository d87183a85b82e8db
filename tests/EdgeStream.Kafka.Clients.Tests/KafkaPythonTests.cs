using EdgeStream.TestSupport;
namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>kafka-python (Debian's python3-kafka, 2.0.x) with its default version negotiation.</summary>
[Collection(SharedAgentCollection.Name)]
public class KafkaPythonTests(SharedAgent agent)
{
    private const string Script = """
        import sys
        from kafka import KafkaProducer, KafkaConsumer, TopicPartition
        bootstrap, topic, compression = sys.argv[1], sys.argv[2], sys.argv[3]
        kwargs = {} if compression == 'none' else {'compression_type': compression}
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', **kwargs)
        futures = [producer.send(topic, key=b'k%d' % i, value=b'value-%d' % i, partition=i % 3,
                                 headers=[('h', b'%d' % i)]) for i in range(60)]
        producer.flush(timeout=30)
        for f in futures:
            f.get(timeout=30)
        producer.close()

        consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset='earliest',
                                 enable_auto_commit=False, consumer_timeout_ms=5000)
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        seen = []
        for m in consumer:
            seen.append('%d %d %s %s %s' % (m.partition, m.offset, m.key.decode(), m.value.decode(), m.headers[0][1].decode()))
            if len(seen) == 60:
                break
        consumer.close()
        for line in sorted(seen):
            print(line)
        print('count', len(seen))
        """;

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    public void ProduceConsume_KafkaPython_ReadsBackEverything(string compression)
    {
        var topic = Unique.Name("py-" + compression);
        var script = Path.Combine(Path.GetTempPath(), $"edgestream-kafka-python-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        try
        {
            // Debian's python3-kafka is visible to the system interpreter only.
            var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", [script, agent.Bootstrap, topic, compression], timeout: TimeSpan.FromSeconds(90));
            Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            var expected = Enumerable.Range(0, 60)
                .Select(i => $"{i % 3} {i / 3} k{i} value-{i} {i}")
                .Order(StringComparer.Ordinal)
                .Append("count 60");
            Assert.Equal(expected, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(script);
        }
    }
}
