namespace EdgeStream.Kafka.Groups;

/// <summary>A member as a server-side assignor sees it: what it subscribes to and what it holds now (for stickiness).</summary>
public sealed record AssignorMember(string MemberId, IReadOnlySet<string> Topics, IReadOnlySet<TopicPartitionKey> Current);

/// <summary>
/// A server-side assignor of the consumer group protocol (KIP-848's ConsumerGroupPartitionAssignor):
/// from the members' subscriptions and the topics' partition counts, the target assignment.
/// Every partition of a subscribed topic goes to exactly one member subscribed to it.
/// </summary>
public interface IConsumerGroupAssignor
{
    /// <summary>The name members ask for in ConsumerGroupHeartbeat's ServerAssignor (group.remote.assignor).</summary>
    string Name { get; }

    /// <param name="partitionCounts">Every subscribed topic that exists, with its partition count.</param>
    Dictionary<string, HashSet<TopicPartitionKey>> Assign(IReadOnlyList<AssignorMember> members, IReadOnlyDictionary<string, int> partitionCounts);
}

/// <summary>The assignors this broker offers (Kafka's group.consumer.assignors); the first is the default.</summary>
public static class ConsumerGroupAssignors
{
    public static IReadOnlyList<IConsumerGroupAssignor> All { get; } = [new UniformAssignor(), new RangeAssignor()];

    public static IConsumerGroupAssignor? Find(string name)
    {
        foreach (var a in All)
            if (a.Name == name) return a;
        return null;
    }
}
