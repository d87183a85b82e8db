using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>What the admin APIs change is kept in meta.db and the log, so it survives a restart.</summary>
public sealed class AdminRestartTests : IAsyncLifetime
{
    // An agent of each test's own: xUnit makes an instance of this class per test.
    private readonly SharedAgent _agent = SharedAgent.Edge();
    private AgentNode Node => _agent.Node;

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();

    private static async Task<Dictionary<string, ConfigEntryResult>> TopicConfigsAsync(IAdminClient admin, string name)
    {
        var results = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = name }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout });
        return Assert.Single(results).Entries;
    }

    [Fact]
    public async Task AlterConfigs_RetentionAndPartitions_SurviveRestart()
    {
        const string altered = "altered";
        const string incremental = "incremental";
        using (var admin = AdminClients.Create(Node.Bootstrap))
        {
            await admin.CreateTopicsAsync(
                [
                    new TopicSpecification { Name = altered, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["segment.ms"] = "60000" } },
                    new TopicSpecification { Name = incremental, NumPartitions = 1, ReplicationFactor = 1 },
                ],
                new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });
#pragma warning disable CS0618 // AlterConfigs is deprecated in clients, still served by brokers.
            await admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [new ConfigResource { Type = ResourceType.Topic, Name = altered }] = [new ConfigEntry { Name = "retention.ms", Value = "1234567" }],
            }, new AlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
#pragma warning restore CS0618
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [new ConfigResource { Type = ResourceType.Topic, Name = incremental }] =
                    [new ConfigEntry { Name = "retention.ms", Value = "7654321", IncrementalOperation = AlterConfigOpType.Set }],
            }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
            await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = incremental, IncreaseTo = 4 }],
                new CreatePartitionsOptions { RequestTimeout = AdminClients.Timeout });
        }

        await Node.RestartAsync();

        using (var admin = AdminClients.Create(Node.Bootstrap))
        {
            var alteredConfigs = await TopicConfigsAsync(admin, altered);
            Assert.Equal("1234567", alteredConfigs["retention.ms"].Value);
            Assert.Equal(ConfigSource.DynamicTopicConfig, alteredConfigs["retention.ms"].Source);
            // AlterConfigs replaced the whole set: the create-time override is gone for good.
            Assert.Equal(ConfigSource.DefaultConfig, alteredConfigs["segment.ms"].Source);

            var incrementalConfigs = await TopicConfigsAsync(admin, incremental);
            Assert.Equal("7654321", incrementalConfigs["retention.ms"].Value);
            Assert.Equal(ConfigSource.DynamicTopicConfig, incrementalConfigs["retention.ms"].Source);

            var metadata = admin.GetMetadata(incremental, AdminClients.Timeout);
            Assert.Equal(4, Assert.Single(metadata.Topics).Partitions.Count);
        }
    }
}
