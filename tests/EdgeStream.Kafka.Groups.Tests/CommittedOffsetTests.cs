using System.Collections.Concurrent;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>Committed offsets: durable across an agent crash, and written by kcat and kafka-python too.</summary>
public sealed class CommittedOffsetRestartTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private AgentNode _node = null!;

    public async Task InitializeAsync() => _node = await AgentNode.StartAsync(_dir.Combine("data"), "edge", "--partitions", "1");

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Consume_CommitThenAgentKilledAndRestarted_ResumesAtCommittedOffset()
    {
        var topic = Clients.UniqueTopic("resume");
        var group = Clients.UniqueGroup("g");
        Clients.Produce(_node.Bootstrap, topic, 20, partitions: 1);
        var config = Clients.GroupConfig(_node.Bootstrap, group);
        using (var consumer = Clients.Builder(config).Build())
        {
            consumer.Subscribe(topic);
            var read = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read < 8 && DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(200);
                if (r is null) continue;
                Assert.Equal(read, r.Offset.Value);
                consumer.Commit(r);
                read++;
            }
            Assert.Equal(8, read);
            consumer.Close();
        }

        await _node.RestartAsync(kill: true);

        using var resumed = Clients.Builder(Clients.GroupConfig(_node.Bootstrap, group)).Build();
        var committed = resumed.Committed([new TopicPartition(topic, 0)], TimeSpan.FromSeconds(20));
        Assert.Equal(8, committed[0].Offset.Value);
        resumed.Subscribe(topic);
        ConsumeResult<string, string>? first = null;
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (first is null && DateTime.UtcNow < until) first = resumed.Consume(200);
        Assert.NotNull(first);
        Assert.Equal(8, first.Offset.Value);
        Assert.Equal("v8", first.Message.Value);
        resumed.Close();
    }
}

[Collection(SharedAgentCollection.Name)]
public sealed class ThirdPartyClientOffsetTests(SharedAgent agent)
{
    private static List<TopicPartitionOffset> Committed(string bootstrap, string group, string topic)
    {
        using var c = Clients.Builder(Clients.GroupConfig(bootstrap, group)).Build();
        return c.Committed(Enumerable.Range(0, 6).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void ConsumeWithGroup_Kcat_CommitsEveryPartitionToItsEnd()
    {
        var topic = Clients.UniqueTopic("kcatg");
        var group = Clients.UniqueGroup("kcat");
        Clients.Produce(agent.Bootstrap, topic, 30);
        // -e: exit once every assigned partition reached its end; the consumer close commits what it read.
        var (code, stdout, stderr) = ExternalTool.Run("kcat", ["-b", agent.Bootstrap, "-G", group, "-X", "auto.offset.reset=earliest",
            "-X", "broker.address.family=v4", "-e", "-q", topic], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"kcat exit {code}\n{stderr}");
        Assert.Equal(30, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var committed = Committed(agent.Bootstrap, group, topic);
        Assert.All(committed, tpo => Assert.Equal(5, tpo.Offset.Value));
    }

    private const string PythonScript = """
        import sys
        from kafka import KafkaConsumer, TopicPartition
        bootstrap, topic, group = sys.argv[1], sys.argv[2], sys.argv[3]
        c = KafkaConsumer(topic, group_id=group, bootstrap_servers=bootstrap, auto_offset_reset='earliest',
                          enable_auto_commit=False, consumer_timeout_ms=8000, session_timeout_ms=6000, heartbeat_interval_ms=500)
        n = 0
        for m in c:
            n += 1
            if n == 30:
                break
        c.commit()
        print('count', n)
        c.close()
        """;

    [Fact]
    public void ConsumeWithGroup_KafkaPython_CommitsVisibleToOffsetFetch()
    {
        var topic = Clients.UniqueTopic("pyg");
        var group = Clients.UniqueGroup("py");
        Clients.Produce(agent.Bootstrap, topic, 30);
        var script = Path.Combine(Path.GetTempPath(), $"edgestream-groups-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, PythonScript);
        try
        {
            // Debian's python3-kafka is visible to the system interpreter only.
            var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", [script, agent.Bootstrap, topic, group], TimeSpan.FromSeconds(90));
            Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            Assert.Contains("count 30", stdout);
        }
        finally
        {
            File.Delete(script);
        }
        var committed = Committed(agent.Bootstrap, group, topic);
        Assert.All(committed, tpo => Assert.Equal(5, tpo.Offset.Value));
    }
}
