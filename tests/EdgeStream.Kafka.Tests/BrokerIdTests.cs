using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary><c>--kafka-broker-id</c>: tools and test suites that assume broker 0 work against a node told so.</summary>
public sealed class BrokerIdTests
{
    [Fact]
    public async Task KafkaBrokerId0_ClusterMetadataAndReplicaAssignmentsNameBroker0_ProduceAndConsumeWork()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("n"), "edge", "--kafka-broker-id", "0");
        using var admin = AdminClients.Create(node.Bootstrap);

        var cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = AdminClients.Timeout });
        Assert.Equal(0, Assert.Single(cluster.Nodes).Id);
        Assert.Equal(0, cluster.Controller.Id);

        // The broker resource is "0", its id set at start-up (STATIC_BROKER_CONFIG). (librdkafka sends a
        // broker resource to that broker, so asking for "1" would wait for a broker that does not exist.)
        var broker = Assert.Single(await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "0" }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout })).Entries;
        Assert.Equal("0", broker["broker.id"].Value);
        Assert.Equal(ConfigSource.StaticBrokerConfig, broker["broker.id"].Source);
        Assert.Equal("0", broker["node.id"].Value);

        // An explicit replica assignment naming broker 0 is this node; broker 1 is not.
        var topic = Unique.Name("b0");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [0], [1] = [0] } }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });
        var refused = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = Unique.Name("b1"), NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1] } }], new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout }));
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Assert.Single(refused.Results).Error.Code);

        var metadata = admin.GetMetadata(topic, AdminClients.Timeout);
        Assert.Equal(0, Assert.Single(metadata.Brokers).BrokerId);
        Assert.All(Assert.Single(metadata.Topics).Partitions, p => Assert.Equal(0, p.Leader));

        using (var producer = AdminClients.Producer(node.Bootstrap))
            await producer.ProduceAsync(new TopicPartition(topic, 1), new Message<string, string> { Key = "k", Value = "on broker 0" });
        var records = LogReader.ReadToEnd(node.Bootstrap, topic);
        Assert.Equal("on broker 0", System.Text.Encoding.UTF8.GetString(Assert.Single(records).Message.Value));
    }

    [Fact]
    public async Task KafkaBrokerIdNegative_RefusedAtStartWithTheSettingNamed()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["run", "--data", dir.Combine("n"), "--kafka-broker-id", "-1"]);
        Assert.Equal(2, code);
        Assert.Contains("--kafka-broker-id", stderr);
    }
}
