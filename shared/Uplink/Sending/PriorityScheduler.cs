namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Picks which partition sends the next frame: the highest <c>uplink.priority</c> among those
/// ready, round-robin among equals, so one busy topic cannot starve a peer of the same priority
/// while a higher-priority backlog always drains first. Not thread-safe.
/// </summary>
public sealed class PriorityScheduler<T> where T : class
{
    // Round-robin position per priority: the index after the last one picked.
    private readonly Dictionary<int, int> _next = [];

    /// <summary>
    /// Returns the item to serve next, or null when none is ready. <paramref name="items"/> keeps a
    /// stable order between calls (new items appended) for the rotation to be fair.
    /// </summary>
    public T? Pick(IReadOnlyList<T> items, Func<T, int> priority, Func<T, bool> isReady)
    {
        var best = int.MinValue;
        var any = false;
        for (var i = 0; i < items.Count; i++)
        {
            if (!isReady(items[i])) continue;
            var p = priority(items[i]);
            if (!any || p > best) best = p;
            any = true;
        }
        if (!any) return null;
        var start = _next.TryGetValue(best, out var s) ? s : 0;
        for (var k = 0; k < items.Count; k++)
        {
            var i = (start + k) % items.Count;
            var item = items[i];
            if (priority(item) != best || !isReady(item)) continue;
            _next[best] = i + 1;
            return item;
        }
        return null;
    }
}
