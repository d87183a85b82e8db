namespace EdgeStream.Kafka.Groups;

/// <summary>
/// Kafka's server-side "uniform" assignor: partitions of all subscribed topics spread so that
/// member counts differ by at most one (among members with the same subscription), sticky: a
/// member keeps what it holds up to its share, so a membership change moves as few partitions
/// as it can. Partitions are not co-located by topic (that is what "range" does).
/// </summary>
public sealed class UniformAssignor : IConsumerGroupAssignor
{
    public string Name => "uniform";

    public Dictionary<string, HashSet<TopicPartitionKey>> Assign(IReadOnlyList<AssignorMember> members, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var result = new Dictionary<string, HashSet<TopicPartitionKey>>(StringComparer.Ordinal);
        var ordered = members.OrderBy(m => m.MemberId, StringComparer.Ordinal).ToList();
        foreach (var m in ordered) result[m.MemberId] = [];
        var all = new List<TopicPartitionKey>();
        foreach (var (topic, count) in partitionCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!ordered.Exists(m => m.Topics.Contains(topic))) continue;
            for (var p = 0; p < count; p++) all.Add(new TopicPartitionKey(topic, p));
        }
        if (ordered.Count == 0) return result;

        // Stickiness: each member keeps what it holds, up to the floor of an equal split, then one
        // more for as many members as the split leaves a remainder.
        var taken = new HashSet<TopicPartitionKey>();
        var floor = all.Count / ordered.Count;
        var extras = all.Count % ordered.Count;
        var kept = new Dictionary<string, Queue<TopicPartitionKey>>(StringComparer.Ordinal);
        foreach (var m in ordered)
        {
            var valid = m.Current.Where(p => m.Topics.Contains(p.Topic) && p.Partition < partitionCounts.GetValueOrDefault(p.Topic))
                .OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition);
            kept[m.MemberId] = new Queue<TopicPartitionKey>(valid);
            while (result[m.MemberId].Count < floor && kept[m.MemberId].TryDequeue(out var p))
                if (taken.Add(p)) result[m.MemberId].Add(p);
        }
        foreach (var m in ordered)
        {
            if (extras == 0) break;
            if (result[m.MemberId].Count != floor) continue;
            while (kept[m.MemberId].TryDequeue(out var p))
            {
                if (!taken.Add(p)) continue;
                result[m.MemberId].Add(p);
                extras--;
                break;
            }
        }
        // The rest go, one at a time, to the subscribed member holding the fewest.
        foreach (var p in all)
        {
            if (taken.Contains(p)) continue;
            AssignorMember? best = null;
            foreach (var m in ordered)
            {
                if (!m.Topics.Contains(p.Topic)) continue;
                if (best is null || result[m.MemberId].Count < result[best.MemberId].Count) best = m;
            }
            if (best is null) continue;
            result[best.MemberId].Add(p);
            taken.Add(p);
        }
        return result;
    }
}
