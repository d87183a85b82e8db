namespace EdgeStream.Kafka.Groups;

/// <summary>
/// Kafka's server-side "range" assignor: topic by topic, the members subscribed to it (ordered by
/// member id) each get a contiguous range of its partitions, the first ones one more when the count
/// does not divide. Partition i of topics with equal partition counts lands on the same member,
/// which is what joins of co-partitioned topics need; the price is imbalance across topics.
/// </summary>
public sealed class RangeAssignor : IConsumerGroupAssignor
{
    public string Name => "range";

    public Dictionary<string, HashSet<TopicPartitionKey>> Assign(IReadOnlyList<AssignorMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var result = new Dictionary<string, HashSet<TopicPartitionKey>>(StringComparer.Ordinal);
        foreach (var m in members) result[m.MemberId] = [];
        foreach (var (topic, count) in partitionCounts)
        {
            var subscribed = members.Where(m => m.Topics.Contains(topic)).Select(m => m.MemberId).Order(StringComparer.Ordinal).ToList();
            if (subscribed.Count == 0) continue;
            var each = count / subscribed.Count;
            var extra = count % subscribed.Count;
            var next = 0;
            for (var i = 0; i < subscribed.Count; i++)
            {
                var n = each + (i < extra ? 1 : 0);
                for (var k = 0; k < n; k++) result[subscribed[i]].Add(new TopicPartitionKey(topic, next++));
            }
        }
        return result;
    }
}
