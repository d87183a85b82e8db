namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// The origin offsets of one origin stream already stored in one target partition: sorted,
/// non-overlapping, non-adjacent inclusive ranges. Not thread-safe: the owner's partition lock
/// guards it. Bounded: past <see cref="MaxRanges"/> ranges, the two oldest are merged (the gap
/// between them is then treated as stored). A sender only fills an old gap when it re-reads data
/// it already skipped (retention dropped it), so forgetting the oldest gaps costs at most a
/// re-sent record being taken for a duplicate, never unbounded memory.
/// </summary>
public sealed class OriginRangeSet
{
    private readonly List<OffsetRange> _ranges = new();

    public OriginRangeSet(int maxRanges = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRanges, 1);
        MaxRanges = maxRanges;
    }

    public int MaxRanges { get; }
    public int Count => _ranges.Count;
    public IReadOnlyList<OffsetRange> Ranges => _ranges;

    /// <summary>Highest stored origin offset, or -1 when empty.</summary>
    public long Last => _ranges.Count == 0 ? -1 : _ranges[^1].Last;

    /// <summary>True when every offset of [first, last] is stored.</summary>
    public bool Covers(long first, long last)
    {
        var i = IndexOfFirstEndingAtOrAfter(first);
        return i < _ranges.Count && _ranges[i].First <= first && _ranges[i].Last >= last;
    }

    /// <summary>True when no offset of [first, last] is stored.</summary>
    public bool Disjoint(long first, long last)
    {
        var i = IndexOfFirstEndingAtOrAfter(first);
        return i == _ranges.Count || _ranges[i].First > last;
    }

    /// <summary>Adds to <paramref name="missing"/> the sub-ranges of [first, last] not stored, in order.</summary>
    public void Missing(long first, long last, List<OffsetRange> missing)
    {
        var next = first;
        for (var i = IndexOfFirstEndingAtOrAfter(first); i < _ranges.Count && next <= last; i++)
        {
            var r = _ranges[i];
            if (r.First > last) break;
            if (r.First > next) missing.Add(new OffsetRange(next, r.First - 1));
            next = Math.Max(next, r.Last + 1);
        }
        if (next <= last) missing.Add(new OffsetRange(next, last));
    }

    /// <summary>Marks [first, last] stored, merging with overlapping and adjacent ranges.</summary>
    public void Add(long first, long last)
    {
        if (first > last) throw new ArgumentException($"empty range {first}..{last}");
        // The first range that overlaps or touches [first, last] (its Last + 1 >= first).
        var i = first == 0 ? 0 : IndexOfFirstEndingAtOrAfter(first - 1);
        var j = i;
        while (j < _ranges.Count && _ranges[j].First <= last + 1)
        {
            first = Math.Min(first, _ranges[j].First);
            last = Math.Max(last, _ranges[j].Last);
            j++;
        }
        if (j > i) _ranges.RemoveRange(i, j - i);
        _ranges.Insert(i, new OffsetRange(first, last));
        while (_ranges.Count > MaxRanges)
        {
            _ranges[0] = new OffsetRange(_ranges[0].First, _ranges[1].Last);
            _ranges.RemoveAt(1);
        }
    }

    /// <summary>Forgets [first, last] (an append that failed after it was planned), splitting ranges as needed.</summary>
    public void Remove(long first, long last)
    {
        if (first > last) return;
        var i = IndexOfFirstEndingAtOrAfter(first);
        while (i < _ranges.Count && _ranges[i].First <= last)
        {
            var r = _ranges[i];
            _ranges.RemoveAt(i);
            if (r.Last > last) _ranges.Insert(i, new OffsetRange(last + 1, r.Last));
            if (r.First < first) _ranges.Insert(i, new OffsetRange(r.First, first - 1));
            if (r.First < first) i++;
            if (r.Last > last) i++;
        }
    }

    // Binary search: index of the first range whose Last >= offset (Count if none).
    private int IndexOfFirstEndingAtOrAfter(long offset)
    {
        int lo = 0, hi = _ranges.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_ranges[mid].Last < offset) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}

/// <summary>An inclusive range of origin offsets.</summary>
public readonly record struct OffsetRange(long First, long Last)
{
    public long Count => Last - First + 1;
}
