using EdgeStream.Metadata;

namespace EdgeStream.Agent.Tests;

/// <summary>The Kafka config facts table (shared/Metadata/kafka-configs.txt) is consistent with itself.</summary>
public sealed class KafkaConfigDefinitionsTests
{
    [Fact]
    public void Table_EveryDefault_PassesItsOwnValidValues()
    {
        var failures = KafkaConfigDefinitions.Topic.Concat(KafkaConfigDefinitions.Broker)
            .Where(d => d.Default is not null && d.Check(d.Default) is not null)
            .Select(d => $"{d.Name}={d.Default}: {d.Check(d.Default!)}")
            .ToList();

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Table_EveryTopicConfigsBrokerSynonym_IsABrokerConfigOfTheSameType()
    {
        Assert.Equal(36, KafkaConfigDefinitions.Topic.Count);
        foreach (var topic in KafkaConfigDefinitions.Topic)
        {
            if (topic.BrokerSynonym is not { } name) continue;
            Assert.True(KafkaConfigDefinitions.TryGetBroker(name, out var broker), $"{topic.Name}: broker synonym {name} is not in the table");
            Assert.Equal(topic.Type, broker.Type);
        }
    }

    [Fact]
    public void Table_Names_UniquePerSection()
    {
        Assert.Equal(KafkaConfigDefinitions.Topic.Count, KafkaConfigDefinitions.Topic.Select(d => d.Name).Distinct().Count());
        Assert.Equal(KafkaConfigDefinitions.Broker.Count, KafkaConfigDefinitions.Broker.Select(d => d.Name).Distinct().Count());
    }

    [Theory]
    [InlineData("segment.ms", "0", "Value must be at least 1")]
    [InlineData("segment.bytes", "x", "Not a number of type INT")]
    [InlineData("flush.messages", "9223372036854775808", "Not a number of type LONG")]
    [InlineData("min.cleanable.dirty.ratio", "-0.1", "Value must be at least 0.0")]
    [InlineData("compression.zstd.level", "23", "Value must be no more than 22")]
    [InlineData("compression.gzip.level", "0", "Value must be between 1 and 9 or equal to -1")]
    [InlineData("cleanup.policy", "delete,nope", "String must be one of: compact, delete")]
    [InlineData("preallocate", "yes", "Expected value to be either true or false")]
    [InlineData("message.format.version", "banana", "Version banana is not a valid version")]
    public void Check_OutOfRange_KafkasReason(string name, string value, string reason)
    {
        Assert.True(KafkaConfigDefinitions.TryGetTopic(name, out var definition));
        Assert.Equal(reason, definition.Check(value));
    }

    [Theory]
    [InlineData("segment.ms", "1")]
    [InlineData("compression.gzip.level", "-1")]
    [InlineData("compression.zstd.level", "-131072")]
    [InlineData("cleanup.policy", "compact, delete")]
    [InlineData("preallocate", "TRUE")]
    [InlineData("follower.replication.throttled.replicas", "*")]
    [InlineData("message.format.version", "2.8")]
    public void Check_InRange_Accepted(string name, string value)
    {
        Assert.True(KafkaConfigDefinitions.TryGetTopic(name, out var definition));
        Assert.Null(definition.Check(value));
    }
}
