namespace EdgeStream.Kafka.Client;

/// <summary>
/// Kafka's RangeAssignor: per topic, the partitions in order are cut into contiguous ranges over the
/// members that subscribe to it, sorted by member id; the first <c>partitions % members</c> members get
/// one extra.
/// </summary>
public static class RangeAssignor
{
    public const string Name = "range";

    /// <param name="subscriptions">Member id → subscribed topics.</param>
    /// <param name="partitionCounts">Topic → partition count (topics missing here are skipped).</param>
    /// <returns>Member id → topic → partitions; every member appears, possibly with nothing.</returns>
    public static Dictionary<string, Dictionary<string, List<int>>> Assign(
        IReadOnlyDictionary<string, IReadOnlyCollection<string>> subscriptions, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var result = new Dictionary<string, Dictionary<string, List<int>>>(StringComparer.Ordinal);
        foreach (var member in subscriptions.Keys) result[member] = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var topics = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var subscribed in subscriptions.Values) topics.UnionWith(subscribed);
        foreach (var topic in topics)
        {
            if (!partitionCounts.TryGetValue(topic, out var count) || count <= 0) continue;
            var members = subscriptions.Where(s => s.Value.Contains(topic)).Select(s => s.Key).Order(StringComparer.Ordinal).ToList();
            var each = count / members.Count;
            var extra = count % members.Count;
            var next = 0;
            for (var i = 0; i < members.Count; i++)
            {
                var take = each + (i < extra ? 1 : 0);
                if (take == 0) continue;
                result[members[i]][topic] = [.. Enumerable.Range(next, take)];
                next += take;
            }
        }
        return result;
    }
}
