using System.Globalization;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Uplink.Receiving;

namespace EdgeStream.Sink;

/// <summary>
/// What one partition of the external cluster holds, per origin stream, in its offsets below
/// <see cref="ScannedTo"/>: the set of origin offsets present there. Learned only from the target
/// itself (a scan of its records, or the acknowledgement of our own produce when nothing came in
/// between), so it is right whoever wrote there — this node before a crash, or another cloud node.
/// Shared by every worker of this node that writes the partition; <see cref="Gate"/> serialises them.
/// </summary>
internal sealed class TargetPartitionState(string topic, int partition)
{
    private readonly Dictionary<OriginStream, OriginRangeSet> _origins = [];
    // When (Environment.TickCount64) a record of the stream written by someone else was last seen.
    private readonly Dictionary<OriginStream, long> _foreignSeenAt = [];
    // Offsets this node wrote that the next scan will read back: not someone else's.
    private readonly List<(long From, long To)> _ours = [];

    public string Topic { get; } = topic;
    public int Partition { get; } = partition;

    /// <summary>Held while catching up, deciding and producing, so two workers never race on one partition.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Offsets below this are reflected in the state.</summary>
    public long ScannedTo { get; private set; }

    /// <summary>Changed since it was last saved.</summary>
    public bool Dirty { get; set; }

    public bool Contains(OriginStream origin, long offset) =>
        _origins.TryGetValue(origin, out var set) && set.Covers(offset, offset);

    /// <summary>The highest origin offset of the stream present in the target, or -1.</summary>
    public long Last(OriginStream origin) => _origins.TryGetValue(origin, out var set) ? set.Last : -1;

    /// <summary>Milliseconds since another writer's record of the stream was last seen; null when never.</summary>
    public long? SinceForeignWrite(OriginStream origin, long now) =>
        _foreignSeenAt.TryGetValue(origin, out var at) ? now - at : null;

    /// <summary>
    /// Records our own produce that landed at <paramref name="baseOffset"/>: applied at once when it
    /// directly follows what is known, else left for the next scan (someone wrote in between).
    /// </summary>
    public void ApplyOwn(long baseOffset, IReadOnlyList<(OriginStream Origin, long Offset)> written)
    {
        if (baseOffset == ScannedTo)
        {
            foreach (var (origin, offset) in written) Add(origin, offset);
            ScannedTo = baseOffset + written.Count;
        }
        else _ours.Add((baseOffset, baseOffset + written.Count));
        Dirty = true;
    }

    /// <summary>
    /// Applies records read from the target (offsets from <see cref="ScannedTo"/>), then moves to
    /// <paramref name="next"/>. Returns how many records were already present (two writers of one origin
    /// at the same time) and the offset of the first of them (-1: none).
    /// </summary>
    public (long Count, long First) ApplyScanned(IReadOnlyList<Record> records, long next, long now)
    {
        var firstDuplicate = -1L;
        long duplicates = 0;
        foreach (var r in records)
        {
            if (!OriginStream.TryRead(r.Headers, out var origin, out var offset)) continue; // not written by a sink
            if (Contains(origin, offset))
            {
                duplicates++;
                if (firstDuplicate < 0) firstDuplicate = r.Offset;
            }
            else Add(origin, offset);
            if (!IsOurs(r.Offset)) _foreignSeenAt[origin] = now;
        }
        ScannedTo = Math.Max(ScannedTo, next);
        _ours.RemoveAll(o => o.To <= ScannedTo);
        Dirty = true;
        return (duplicates, firstDuplicate);
    }

    /// <summary>Forgets everything: the target lost data (or was re-created); rescan from <paramref name="start"/>.</summary>
    public void Reset(long start)
    {
        _origins.Clear();
        _ours.Clear();
        ScannedTo = start;
        Dirty = true;
    }

    /// <summary>The target deleted offsets below <paramref name="start"/> (retention): what they held stays known.</summary>
    public void SkipTo(long start)
    {
        if (start > ScannedTo) ScannedTo = start;
        Dirty = true;
    }

    private void Add(OriginStream origin, long offset)
    {
        if (!_origins.TryGetValue(origin, out var set)) _origins[origin] = set = new OriginRangeSet();
        set.Add(offset, offset);
    }

    private bool IsOurs(long offset)
    {
        foreach (var (from, to) in _ours)
            if (offset >= from && offset < to) return true;
        return false;
    }

    // ---- checkpoint: first line the scanned offset, then one line per origin: node \t topic \t partition \t first-last,... ----
    // Node ids and topic names never hold tabs or newlines (both are validated where they are made).

    public string Serialize()
    {
        var text = new StringBuilder();
        text.Append(ScannedTo.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (origin, set) in _origins)
        {
            if (origin.Node.AsSpan().IndexOfAny('\t', '\n') >= 0 || origin.Topic.AsSpan().IndexOfAny('\t', '\n') >= 0) continue;
            text.Append(origin.Node).Append('\t').Append(origin.Topic).Append('\t')
                .Append(origin.Partition.ToString(CultureInfo.InvariantCulture)).Append('\t');
            for (var i = 0; i < set.Ranges.Count; i++)
            {
                if (i > 0) text.Append(',');
                text.Append(set.Ranges[i].First.ToString(CultureInfo.InvariantCulture)).Append('-')
                    .Append(set.Ranges[i].Last.ToString(CultureInfo.InvariantCulture));
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Restores a checkpoint; false (state left empty, scan from 0) when it does not parse.</summary>
    public bool TryLoad(string text)
    {
        Reset(0);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || !long.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out var scanned)) return false;
        for (var i = 1; i < lines.Length; i++)
        {
            var fields = lines[i].Split('\t');
            if (fields.Length != 4 || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var partition))
            {
                Reset(0);
                return false;
            }
            var set = new OriginRangeSet();
            foreach (var range in fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                if (dash <= 0 || !long.TryParse(range.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                    || !long.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last) || last < first)
                {
                    Reset(0);
                    return false;
                }
                set.Add(first, last);
            }
            _origins[new OriginStream(fields[0], fields[1], partition)] = set;
        }
        ScannedTo = scanned;
        Dirty = false;
        return true;
    }
}
