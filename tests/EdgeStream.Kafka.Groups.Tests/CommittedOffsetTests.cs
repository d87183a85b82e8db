using System.Collections.Concurrent;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>Committed offsets: durable across an agent crash, and written by kcat and kafka-python too.</summary>
public sealed class CommittedOffsetRestartTests : IAsyncLifetime
{
    // An agent of each test's own: xUnit makes an instance of this class per test.
    private readonly SharedAgent _agent = SharedAgent.Edge("--partitions", "1");
    private AgentNode Node => _agent.Node;

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();

    [Fact]
    public async Task Consume_CommitThenAgentKilledAndRestarted_ResumesAtCommittedOffset()
    {
        var topic = Unique.Name("resume");
        var group = Unique.Name("g");
        Clients.Produce(Node.Bootstrap, topic, 20, partitions: 1);
        var config = Clients.GroupConfig(Node.Bootstrap, group);
        using (var consumer = Clients.Builder(config).Build())
        {
            consumer.Subscribe(topic);
            var read = 0;
            // Each poll waits up to 200 ms for a record itself.
            await Wait.UntilAsync(() =>
            {
                var r = consumer.Consume(200);
                if (r is null) return false;
                Assert.Equal(read, r.Offset.Value);
                consumer.Commit(r);
                return ++read == 8;
            }, TimeSpan.FromSeconds(30), TimeSpan.Zero);
            Assert.Equal(8, read);
            consumer.Close();
        }

        await Node.RestartAsync(kill: true);

        using var resumed = Clients.Builder(Clients.GroupConfig(Node.Bootstrap, group)).Build();
        var committed = resumed.Committed([new TopicPartition(topic, 0)], TimeSpan.FromSeconds(20));
        Assert.Equal(8, committed[0].Offset.Value);
        resumed.Subscribe(topic);
        var (_, first) = await Wait.UntilAsync(() => Task.FromResult(resumed.Consume(200)), r => r is not null, TimeSpan.FromSeconds(30), TimeSpan.Zero);
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
        var topic = Unique.Name("kcatg");
        var group = Unique.Name("kcat");
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
        var topic = Unique.Name("pyg");
        var group = Unique.Name("py");
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
