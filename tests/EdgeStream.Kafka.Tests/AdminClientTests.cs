using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>The admin APIs through Confluent.Kafka's AdminClient (librdkafka) against a real agent.</summary>
public sealed class AdminClientTests : IClassFixture<AdminAgentFixture>
{
    private readonly AdminAgentFixture _agent;

    public AdminClientTests(AdminAgentFixture agent) => _agent = agent;

    private IAdminClient Admin => _agent.Admin;

    private async Task CreateAsync(string name, int partitions, Dictionary<string, string>? configs = null) =>
        await Admin.CreateTopicsAsync(
            [new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });

    private async Task<Dictionary<string, ConfigEntryResult>> TopicConfigsAsync(string name)
    {
        var results = await Admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = name }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout });
        return Assert.Single(results).Entries;
    }

    private int PartitionCount(string name)
    {
        var metadata = Admin.GetMetadata(name, AdminClients.Timeout);
        var topic = Assert.Single(metadata.Topics);
        Assert.Equal(ErrorCode.NoError, topic.Error.Code);
        return topic.Partitions.Count;
    }

    [Fact]
    public async Task CreateTopics_WithConfigs_DescribeShowsPartitionsAndOverrides()
    {
        var name = Unique.Name("create");

        await CreateAsync(name, 3, new Dictionary<string, string> { ["retention.ms"] = "3600000", ["compression.type"] = "lz4" });

        var described = await Admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([name]),
            new DescribeTopicsOptions { RequestTimeout = AdminClients.Timeout });
        var topic = Assert.Single(described.TopicDescriptions);
        Assert.Equal(ErrorCode.NoError, topic.Error.Code);
        Assert.Equal(3, topic.Partitions.Count);
        Assert.Equal(3, PartitionCount(name));

        var configs = await TopicConfigsAsync(name);
        Assert.Equal("3600000", configs["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["retention.ms"].Source);
        Assert.Equal("lz4", configs["compression.type"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["compression.type"].Source);
        // Not overridden: the node's default, marked as such.
        Assert.Equal("134217728", configs["segment.bytes"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, configs["segment.bytes"].Source);
        Assert.Equal("delete", configs["cleanup.policy"].Value);
    }

    [Fact]
    public async Task CreateTopics_DefaultPartitionsAndReplication_UsesBrokerDefaults()
    {
        var name = Unique.Name("defaults");

        await Admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = -1, ReplicationFactor = -1 }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });

        Assert.Equal(1, PartitionCount(name));
    }

    [Fact]
    public async Task CreateTopics_ExistingName_TopicAlreadyExists()
    {
        var name = Unique.Name("dup");
        await CreateAsync(name, 1);

        var ex = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync(name, 2));

        var report = Assert.Single(ex.Results);
        Assert.Equal(ErrorCode.TopicAlreadyExists, report.Error.Code);
        Assert.Equal(1, PartitionCount(name));
    }

    [Fact]
    public async Task CreateTopics_ReplicationFactorThree_InvalidReplicationFactor()
    {
        var name = Unique.Name("rf");

        var ex = await Assert.ThrowsAsync<CreateTopicsException>(() => Admin.CreateTopicsAsync(
            [new TopicSpecification { Name = name, NumPartitions = 1, ReplicationFactor = 3 }],
            new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout }));

        Assert.Equal(ErrorCode.InvalidReplicationFactor, Assert.Single(ex.Results).Error.Code);
        Assert.DoesNotContain(Admin.GetMetadata(AdminClients.Timeout).Topics, t => t.Topic == name);
    }

    [Fact]
    public async Task CreateTopics_InvalidName_InvalidTopicException()
    {
        var ex = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync("no/slashes allowed", 1));

        Assert.Equal(ErrorCode.TopicException, Assert.Single(ex.Results).Error.Code);
    }

    [Fact]
    public async Task CreateTopics_UnknownConfig_InvalidConfig()
    {
        var name = Unique.Name("badcfg");

        var ex = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync(name, 1, new Dictionary<string, string> { ["retention.ms"] = "soon" }));

        var report = Assert.Single(ex.Results);
        Assert.Equal(ErrorCode.InvalidConfig, report.Error.Code);
        Assert.Contains("retention.ms", report.Error.Reason);
    }

    [Fact]
    public async Task CreateTopics_ValidateOnly_CreatesNothing()
    {
        var name = Unique.Name("dry");

        await Admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 2, ReplicationFactor = 1 }],
            new CreateTopicsOptions { ValidateOnly = true, RequestTimeout = AdminClients.Timeout });

        Assert.DoesNotContain(Admin.GetMetadata(AdminClients.Timeout).Topics, t => t.Topic == name);
    }

    [Fact]
    public async Task ExplicitReplicaAssignments_NamingThisBroker_CreateTopicsAndCreatePartitionsIncludingValidateOnly()
    {
        var name = Unique.Name("assign");
        var dry = Unique.Name("assign-dry");
        var timeout = new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout };
        await Admin.CreateTopicsAsync([new TopicSpecification { Name = dry, NumPartitions = 2, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1], [1] = [1] } }],
            new CreateTopicsOptions { ValidateOnly = true, RequestTimeout = AdminClients.Timeout });
        Assert.DoesNotContain(Admin.GetMetadata(AdminClients.Timeout).Topics, t => t.Topic == dry);

        await Admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = 2, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1], [1] = [1] } }], timeout);
        Assert.Equal(2, PartitionCount(name));

        await Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = 4, ReplicaAssignments = [[1], [1]] }],
            new CreatePartitionsOptions { ValidateOnly = true, RequestTimeout = AdminClients.Timeout });
        Assert.Equal(2, PartitionCount(name));
        await Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = 4, ReplicaAssignments = [[1], [1]] }],
            new CreatePartitionsOptions { RequestTimeout = AdminClients.Timeout });
        Assert.Equal(4, PartitionCount(name));

        var refused = await Assert.ThrowsAsync<CreatePartitionsException>(() => Admin.CreatePartitionsAsync(
            [new PartitionsSpecification { Topic = name, IncreaseTo = 5, ReplicaAssignments = [[7]] }], new CreatePartitionsOptions { RequestTimeout = AdminClients.Timeout }));
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, Assert.Single(refused.Results).Error.Code);
        Assert.Equal(4, PartitionCount(name));
    }

    [Fact]
    public async Task IncrementalAlterConfigs_SetAndDelete_DescribeShowsChange()
    {
        var name = Unique.Name("incr");
        await CreateAsync(name, 1, new Dictionary<string, string> { ["segment.ms"] = "60000" });
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };

        await Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] =
            [
                new ConfigEntry { Name = "retention.ms", Value = "7200000", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "segment.ms", IncrementalOperation = AlterConfigOpType.Delete },
            ],
        }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout });

        var configs = await TopicConfigsAsync(name);
        Assert.Equal("7200000", configs["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["retention.ms"].Source);
        Assert.Equal("604800000", configs["segment.ms"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, configs["segment.ms"].Source);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_AppendCompactToCleanupPolicy_InvalidConfigAndUnchanged()
    {
        var name = Unique.Name("compact");
        await CreateAsync(name, 1);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };

        var ex = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Admin.IncrementalAlterConfigsAsync(
            new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [resource] = [new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Append }],
            }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout }));

        var result = Assert.Single(ex.Results);
        Assert.Equal(ErrorCode.InvalidConfig, result.Error.Code);
        Assert.Contains("compact", result.Error.Reason);
        var configs = await TopicConfigsAsync(name);
        Assert.Equal("delete", configs["cleanup.policy"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, configs["cleanup.policy"].Source);
    }

    /// <summary>Kafka's documented topic configs (3.9): tools read the whole set, with Kafka's defaults for what a single-replica log does not use.</summary>
    private static readonly string[] s_kafkaTopicConfigs =
    [
        "cleanup.policy", "compression.type", "compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
        "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms", "follower.replication.throttled.replicas",
        "index.interval.bytes", "leader.replication.throttled.replicas", "local.retention.bytes", "local.retention.ms",
        "max.compaction.lag.ms", "max.message.bytes", "message.downconversion.enable", "message.format.version", "message.timestamp.after.max.ms",
        "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms", "message.timestamp.type",
        "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate", "remote.log.copy.disable",
        "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes", "retention.ms", "segment.bytes",
        "segment.index.bytes", "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
    ];

    [Fact]
    public async Task DescribeConfigs_Topic_EveryDocumentedKafkaKeyWithKafkasDefaultsWhereUnused()
    {
        var name = Unique.Name("full");
        await CreateAsync(name, 1, new Dictionary<string, string> { ["min.insync.replicas"] = "2" });

        var configs = await TopicConfigsAsync(name);
        var missing = s_kafkaTopicConfigs.Where(k => !configs.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, $"missing: {string.Join(", ", missing)}");
        // Kafka's 36 plus EdgeStream's own disk.full.policy and uplink.priority.
        Assert.Equal(38, configs.Count);
        Assert.All(configs.Values, c => Assert.False(c.IsReadOnly || c.IsSensitive));
        Assert.Equal("3.0-IV1", configs["message.format.version"].Value);
        Assert.Equal("9223372036854775807", configs["flush.ms"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, configs["flush.ms"].Source);
        Assert.True(configs["flush.ms"].IsDefault);
        Assert.Equal("0.5", configs["min.cleanable.dirty.ratio"].Value);
        Assert.Equal("producer", configs["compression.type"].Value);
        Assert.Equal("2", configs["min.insync.replicas"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["min.insync.replicas"].Source);
        Assert.False(configs["min.insync.replicas"].IsReadOnly);
        Assert.False(configs["min.insync.replicas"].IsSensitive);

        // The broker shows the settings those keys inherit from, as read-only defaults.
        var broker = Assert.Single(await Admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "1" }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout })).Entries;
        Assert.Equal("9223372036854775807", broker["log.flush.interval.messages"].Value);
        Assert.True(broker["log.flush.interval.messages"].IsReadOnly);
        Assert.Null(broker["log.flush.interval.ms"].Value); // Kafka has no default: the scheduler interval applies
        Assert.Equal("1", broker["min.insync.replicas"].Value);
        Assert.All(configs["flush.ms"].Synonyms, s => Assert.Equal("log.flush.interval.ms", s.Name));
    }

    [Fact]
    public async Task IncrementalAlterConfigs_AcceptedKeys_ValidatedAsKafkaDoesWithKafkasWording()
    {
        var name = Unique.Name("valid");
        await CreateAsync(name, 1);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };
        async Task<Error> Refused(string key, string value, AlterConfigOpType op = AlterConfigOpType.Set)
        {
            var ex = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Admin.IncrementalAlterConfigsAsync(
                new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = [new ConfigEntry { Name = key, Value = value, IncrementalOperation = op }] },
                new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout }));
            return Assert.Single(ex.Results).Error;
        }

        var error = await Refused("min.insync.replicas", "0");
        Assert.Equal(ErrorCode.InvalidConfig, error.Code);
        Assert.Equal("Invalid value 0 for configuration min.insync.replicas: Value must be at least 1", error.Reason);
        Assert.Equal("Invalid value soon for configuration flush.ms: Not a number of type LONG", (await Refused("flush.ms", "soon")).Reason);
        Assert.Equal("Invalid value maybe for configuration preallocate: Expected value to be either true or false", (await Refused("preallocate", "maybe")).Reason);
        error = await Refused("no.such.config", "1");
        Assert.Equal(ErrorCode.InvalidConfig, error.Code);
        Assert.Equal("Unknown topic config name: no.such.config", error.Reason);
        error = await Refused("retention.ms", "1000", AlterConfigOpType.Append);
        Assert.Equal(ErrorCode.InvalidRequest, error.Code);
        Assert.Equal("Config value append is not allowed for config key: retention.ms", error.Reason);

        await Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "flush.ms", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }],
        }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
        var configs = await TopicConfigsAsync(name);
        Assert.Equal("1000", configs["flush.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["flush.ms"].Source);
        Assert.Equal("9223372036854775807", configs["flush.messages"].Value);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_OutOfKafkasRange_InvalidConfigInKafkasWordingAndUnchanged()
    {
        var name = Unique.Name("range");
        await CreateAsync(name, 1, new Dictionary<string, string> { ["retention.ms"] = "3600000" });
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };
        async Task<Error> Refused(string key, string value)
        {
            var ex = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Admin.IncrementalAlterConfigsAsync(
                new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = [new ConfigEntry { Name = key, Value = value, IncrementalOperation = AlterConfigOpType.Set }] },
                new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout }));
            var error = Assert.Single(ex.Results).Error;
            Assert.Equal(ErrorCode.InvalidConfig, error.Code);
            return error;
        }

        // Keys EdgeStream acts on get Kafka's ranges too (retention.ms -2 used to mean "forever").
        Assert.Equal("Invalid value -2 for configuration retention.ms: Value must be at least -1", (await Refused("retention.ms", "-2")).Reason);
        Assert.Equal("Invalid value 0 for configuration segment.ms: Value must be at least 1", (await Refused("segment.ms", "0")).Reason);
        Assert.Equal("Invalid value 3000000000 for configuration segment.bytes: Not a number of type INT", (await Refused("segment.bytes", "3000000000")).Reason);
        // Within Kafka's range but outside EdgeStream's, in the same form.
        Assert.Equal("Invalid value 100 for configuration segment.bytes: Value must be at least 1024", (await Refused("segment.bytes", "100")).Reason);
        Assert.Equal("Invalid value bogus for configuration cleanup.policy: String must be one of: compact, delete", (await Refused("cleanup.policy", "bogus")).Reason);
        Assert.Equal("Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1.0", (await Refused("min.cleanable.dirty.ratio", "1.5")).Reason);
        Assert.Equal("Invalid value 12 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1", (await Refused("compression.gzip.level", "12")).Reason);
        Assert.Equal("Invalid value lz5 for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
            (await Refused("compression.type", "lz5")).Reason);
        Assert.Equal("Invalid value 0:x for configuration leader.replication.throttled.replicas: must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
            (await Refused("leader.replication.throttled.replicas", "0:x")).Reason);
        Assert.Equal("Invalid value 9.9-IV9x for configuration message.format.version: Version 9.9-IV9x is not a valid version", (await Refused("message.format.version", "9.9-IV9x")).Reason);

        var configs = await TopicConfigsAsync(name);
        Assert.Equal("3600000", configs["retention.ms"].Value);
        Assert.Equal("604800000", configs["segment.ms"].Value);
        Assert.Equal("0.5", configs["min.cleanable.dirty.ratio"].Value);

        // The edges of the ranges are accepted.
        await Admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] =
            [
                new ConfigEntry { Name = "retention.ms", Value = "-1", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "min.cleanable.dirty.ratio", Value = "1.0", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "compression.gzip.level", Value = "-1", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "leader.replication.throttled.replicas", Value = "0:1,1:1", IncrementalOperation = AlterConfigOpType.Set },
            ],
        }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
        configs = await TopicConfigsAsync(name);
        Assert.Equal("-1", configs["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["retention.ms"].Source);
        Assert.Equal("1.0", configs["min.cleanable.dirty.ratio"].Value);
        Assert.Equal("0:1,1:1", configs["leader.replication.throttled.replicas"].Value);
    }

    [Fact]
    public async Task AlterConfigsAndCreateTopics_OutOfKafkasRange_InvalidConfigInKafkasWording()
    {
        var name = Unique.Name("range-alter");
        await CreateAsync(name, 1);
#pragma warning disable CS0618 // AlterConfigs is deprecated in favour of the incremental API; it is still a Kafka API we serve.
        var altered = await Assert.ThrowsAsync<AlterConfigsException>(() => Admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [new ConfigResource { Type = ResourceType.Topic, Name = name }] = [new ConfigEntry { Name = "min.insync.replicas", Value = "0" }],
        }, new AlterConfigsOptions { RequestTimeout = AdminClients.Timeout }));
#pragma warning restore CS0618
        var error = Assert.Single(altered.Results).Error;
        Assert.Equal(ErrorCode.InvalidConfig, error.Code);
        Assert.Equal("Invalid value 0 for configuration min.insync.replicas: Value must be at least 1", error.Reason);

        var created = await Assert.ThrowsAsync<CreateTopicsException>(() => CreateAsync(Unique.Name("range-create"), 1, new Dictionary<string, string> { ["retention.ms"] = "-5" }));
        error = Assert.Single(created.Results).Error;
        Assert.Equal(ErrorCode.InvalidConfig, error.Code);
        Assert.Equal("Invalid value -5 for configuration retention.ms: Value must be at least -1", error.Reason);
    }

    [Fact]
    public async Task AlterConfigs_ReplaceOverrides_OmittedKeysReturnToDefault()
    {
        var name = Unique.Name("alter");
        await CreateAsync(name, 1, new Dictionary<string, string> { ["segment.ms"] = "60000", ["retention.ms"] = "60000" });
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = name };

#pragma warning disable CS0618 // AlterConfigs is deprecated in favour of the incremental API; it is still a Kafka API we serve.
        await Admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "900000" }],
        }, new AlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
#pragma warning restore CS0618

        var configs = await TopicConfigsAsync(name);
        Assert.Equal("900000", configs["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, configs["retention.ms"].Source);
        Assert.Equal("604800000", configs["segment.ms"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, configs["segment.ms"].Source);
    }

    [Fact]
    public async Task AlterConfigs_BrokerResource_RefusedWithMessage()
    {
        var resource = new ConfigResource { Type = ResourceType.Broker, Name = "1" };

        var ex = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Admin.IncrementalAlterConfigsAsync(
            new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [resource] = [new ConfigEntry { Name = "num.partitions", Value = "4", IncrementalOperation = AlterConfigOpType.Set }],
            }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout }));

        var result = Assert.Single(ex.Results);
        Assert.Equal(ErrorCode.InvalidRequest, result.Error.Code);
        Assert.Contains("runtime", result.Error.Reason);
    }

    [Fact]
    public async Task DescribeConfigs_Broker_ReportsReadOnlyNodeSettings()
    {
        var results = await Admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "1" }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout });

        var entries = Assert.Single(results).Entries;
        Assert.Equal("1", entries["num.partitions"].Value);
        Assert.Equal("true", entries["auto.create.topics.enable"].Value);
        Assert.Equal("604800000", entries["log.retention.ms"].Value);
        Assert.Equal("168", entries["log.retention.hours"].Value);
        Assert.Equal("134217728", entries["log.segment.bytes"].Value);
        Assert.True(entries["log.segment.bytes"].IsReadOnly);
        Assert.Equal(ConfigSource.DefaultConfig, entries["log.segment.bytes"].Source); // EdgeStream's own default, not set at start-up
        Assert.Equal("1", entries["broker.id"].Value);
        Assert.Equal("1", entries["node.id"].Value);

        // Kafka's whole documented set, read-only here; what EdgeStream does not use shows Kafka's default.
        Assert.InRange(entries.Count, 250, 400);
        Assert.All(entries.Values, e => Assert.True(e.IsReadOnly));
        Assert.Equal("8", entries["num.io.threads"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, entries["num.io.threads"].Source);
        Assert.True(entries["num.io.threads"].IsDefault);
        Assert.Equal("TLSv1.2,TLSv1.3", entries["ssl.enabled.protocols"].Value);
        Assert.Null(entries["zookeeper.connect"].Value);
        Assert.Equal("", entries["authorizer.class.name"].Value);
        // Passwords are flagged sensitive and their value withheld, as Kafka does.
        Assert.True(entries["ssl.keystore.password"].IsSensitive);
        Assert.Null(entries["ssl.keystore.password"].Value);
        Assert.False(entries["ssl.keystore.location"].IsSensitive);
    }

    [Fact]
    public async Task DescribeConfigs_UnknownTopic_UnknownTopicOrPartition()
    {
        var ex = await Assert.ThrowsAsync<DescribeConfigsException>(() => TopicConfigsAsync(Unique.Name("missing")));

        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(ex.Results).Error.Code);
    }

    [Fact]
    public async Task DescribeConfigs_GroupResource_InvalidRequestAndConnectionStaysUp()
    {
        var ex = await Assert.ThrowsAsync<DescribeConfigsException>(() => Admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Group, Name = "some-group" }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout }));

        Assert.Equal(ErrorCode.InvalidRequest, Assert.Single(ex.Results).Error.Code);
        var cluster = await Admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = AdminClients.Timeout });
        Assert.Single(cluster.Nodes);
    }

    [Fact]
    public async Task CreatePartitions_Grow_MetadataShowsNewCount()
    {
        var name = Unique.Name("grow");
        await CreateAsync(name, 2);

        await Admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = 5 }],
            new CreatePartitionsOptions { RequestTimeout = AdminClients.Timeout });

        Assert.Equal(5, PartitionCount(name));
    }

    [Fact]
    public async Task CreatePartitions_Shrink_InvalidPartitionsAndUnchanged()
    {
        var name = Unique.Name("shrink");
        await CreateAsync(name, 3);

        var ex = await Assert.ThrowsAsync<CreatePartitionsException>(() => Admin.CreatePartitionsAsync(
            [new PartitionsSpecification { Topic = name, IncreaseTo = 2 }],
            new CreatePartitionsOptions { RequestTimeout = AdminClients.Timeout }));

        Assert.Equal(ErrorCode.InvalidPartitions, Assert.Single(ex.Results).Error.Code);
        Assert.Equal(3, PartitionCount(name));
    }

    [Fact]
    public async Task DeleteRecords_BeforeOffset_LowWatermarkMovesForListOffsetsAndConsumers()
    {
        var name = Unique.Name("trim");
        await CreateAsync(name, 1);
        using (var producer = AdminClients.Producer(_agent.Node.Bootstrap))
        {
            for (var i = 0; i < 10; i++)
                await producer.ProduceAsync(name, new Message<string, string> { Key = "k", Value = $"v{i}" });
        }

        var results = await Admin.DeleteRecordsAsync([new TopicPartitionOffset(name, 0, 4)],
            new DeleteRecordsOptions { RequestTimeout = AdminClients.Timeout });

        Assert.Equal(4, Assert.Single(results).Offset.Value);
        var earliest = await Admin.ListOffsetsAsync(
            [new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(name, 0), OffsetSpec = OffsetSpec.Earliest() }],
            new ListOffsetsOptions { RequestTimeout = AdminClients.Timeout });
        Assert.Equal(4, Assert.Single(earliest.ResultInfos).TopicPartitionOffsetError.Offset.Value);
    }

    [Fact]
    public async Task DeleteRecords_PastHighWatermark_OffsetOutOfRange()
    {
        var name = Unique.Name("toofar");
        await CreateAsync(name, 1);

        var ex = await Assert.ThrowsAsync<DeleteRecordsException>(() => Admin.DeleteRecordsAsync(
            [new TopicPartitionOffset(name, 0, 100)], new DeleteRecordsOptions { RequestTimeout = AdminClients.Timeout }));

        Assert.Equal(ErrorCode.OffsetOutOfRange, Assert.Single(ex.Results).Error.Code);
    }

    [Fact]
    public async Task DeleteTopics_Existing_MetadataNoLongerListsIt()
    {
        var name = Unique.Name("gone");
        await CreateAsync(name, 2);
        Assert.Contains(Admin.GetMetadata(AdminClients.Timeout).Topics, t => t.Topic == name);

        await Admin.DeleteTopicsAsync([name], new DeleteTopicsOptions { RequestTimeout = AdminClients.Timeout });

        Assert.True(await Wait.UntilAsync(
            () => !Admin.GetMetadata(AdminClients.Timeout).Topics.Exists(t => t.Topic == name), AdminClients.Timeout),
            $"{name} is still listed after DeleteTopics");
    }

    [Fact]
    public async Task DeleteTopics_Unknown_UnknownTopicOrPartition()
    {
        var ex = await Assert.ThrowsAsync<DeleteTopicsException>(() => Admin.DeleteTopicsAsync(
            [Unique.Name("never")], new DeleteTopicsOptions { RequestTimeout = AdminClients.Timeout }));

        Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(ex.Results).Error.Code);
    }

    [Fact]
    public async Task DescribeCluster_SingleNode_IsBrokerAndController()
    {
        var cluster = await Admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = AdminClients.Timeout });

        var node = Assert.Single(cluster.Nodes);
        Assert.Equal(1, node.Id);
        Assert.Equal("127.0.0.1", node.Host);
        Assert.Equal(_agent.Node.KafkaPort, node.Port);
        Assert.Equal(1, cluster.Controller.Id);
        Assert.False(string.IsNullOrEmpty(cluster.ClusterId));
    }
}
