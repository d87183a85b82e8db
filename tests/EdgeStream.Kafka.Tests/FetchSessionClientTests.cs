using System.Reflection;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>
/// Incremental fetch sessions (KIP-227) with a real client that uses them: @platformatic/kafka
/// (npm; librdkafka, kafkajs and kafka-python 2.0 always fetch without a session). The protocol's
/// every field is checked in EdgeStream.Kafka.Clients.Tests' FetchSessionTests.
/// </summary>
public sealed class FetchSessionClientTests : IClassFixture<AdminAgentFixture>
{
    private readonly AdminAgentFixture _agent;

    public FetchSessionClientTests(AdminAgentFixture agent) => _agent = agent;

    private static string PeerDirectory => typeof(FetchSessionClientTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "PlatformaticKafkaDirectory").Value!;

    [Fact]
    public async Task PlatformaticConsumer_FetchesIncrementally_EveryRecordOnce()
    {
        Assert.True(Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "@platformatic", "kafka")),
            $"@platformatic/kafka is not installed: run ./build.sh test, or npm ci in {PeerDirectory}");
        const int partitions = 24, first = 2400, second = 600;
        var topic = Unique.Name("plk");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _agent.Node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _agent.Node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4, LingerMs = 5 }).Build())
        {
            for (var i = 0; i < first; i++) producer.Produce(new TopicPartition(topic, i % partitions), new Message<string, string> { Key = "k", Value = $"first-{i}" });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        var before = await IncrementalFetchesAsync();

        var (code, stdout, stderr) = ExternalTool.Run("node",
            [Path.Combine(PeerDirectory, "consume.mjs"), _agent.Node.Bootstrap, topic, $"{first}", $"{second}", $"{partitions}"], timeout: TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"node exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        // Every record of both phases, none twice (the second phase arrived through incremental fetches).
        Assert.Equal($"total {first + second} distinct {first + second}", stdout.Trim());
        Assert.True(await IncrementalFetchesAsync() > before, "the client never fetched incrementally");
    }

    private async Task<long> IncrementalFetchesAsync() =>
        (await _agent.Node.StatusAsync()).GetProperty("kafka").GetProperty("fetchSessions").GetProperty("incrementalFetches").GetInt64();
}
