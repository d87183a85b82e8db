using EdgeStream.TestSupport;
using System.Text;
using Confluent.Kafka;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>kcat (librdkafka's command-line client) as users run it.</summary>
[Collection(SharedAgentCollection.Name)]
public class KcatTests(SharedAgent agent)
{
    private (int ExitCode, string Stdout, string Stderr) Kcat(string? stdin, params string[] args) =>
        ExternalTool.Run("kcat", ["-b", agent.Bootstrap, "-X", "broker.address.family=v4", .. args], stdin, TimeSpan.FromSeconds(60));

    [Fact]
    public void ProduceThenConsume_KeyDelimiterAndHeaders_FormatShowsEverything()
    {
        var topic = Unique.Name("kcat");
        var produce = Kcat("k1:v1\nk2:value two\nk3:\n", "-P", "-t", topic, "-p", "0", "-K", ":", "-H", "h1=a", "-H", "h2=bc");
        Assert.True(produce.ExitCode == 0, produce.Stderr);

        var consume = Kcat(null, "-C", "-t", topic, "-p", "0", "-e", "-o", "beginning", "-f", "%k|%s|%h|%o|%p\n");
        Assert.True(consume.ExitCode == 0, consume.Stderr);
        var lines = consume.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["k1|v1|h1=a,h2=bc|0|0", "k2|value two|h1=a,h2=bc|1|0", "k3||h1=a,h2=bc|2|0"], lines);
    }

    [Fact]
    public void List_AutoCreatedTopic_ShowsTopicAndPartitions()
    {
        var topic = Unique.Name("kcat-list");
        Assert.Equal(0, Kcat("x\n", "-P", "-t", topic).ExitCode);
        var list = Kcat(null, "-L", "-t", topic);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains($"topic \"{topic}\" with 6 partitions:", list.Stdout);
        for (var p = 0; p < 6; p++) Assert.Contains($"partition {p}, leader 1,", list.Stdout);
    }

    [Fact]
    public async Task Query_OffsetForTimestamp_FirstOffsetAtOrAfter()
    {
        var topic = Unique.Name("kcat-q");
        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 500_000;
        using (var producer = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
        {
            for (var i = 0; i < 10; i++)
                await producer.ProduceAsync(new TopicPartition(topic, 2), new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes($"{i}"), Timestamp = new Timestamp(baseTime + i * 100, TimestampType.CreateTime) });
        }
        var query = Kcat(null, "-Q", "-t", $"{topic}:2:{baseTime + 450}");
        Assert.True(query.ExitCode == 0, query.Stderr);
        Assert.Contains($"{topic} [2] offset 5", query.Stdout);
    }
}
