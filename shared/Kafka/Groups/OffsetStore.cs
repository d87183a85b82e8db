using System.Globalization;
using EdgeStream.Metadata;

namespace EdgeStream.Kafka.Groups;

/// <summary>
/// Committed consumer offsets in the metadata store's <c>offsets</c> collection. One entry per
/// (group, topic, partition): key <c>{groupLength}:{group}/{topic}/{partition}</c> (the length
/// prefix makes any group id safe, topic names hold no '/'), number = offset, text =
/// <c>{leaderEpoch}</c> or <c>{leaderEpoch}|{metadata}</c> when metadata is not null.
/// Writes of one OffsetCommit go in one LiteDB transaction.
/// </summary>
public sealed class OffsetStore
{
    private readonly MetadataCollection? _collection;

    /// <param name="collection">Null keeps offsets in memory only (tests of the codec paths).</param>
    public OffsetStore(MetadataCollection? collection) => _collection = collection;

    public static OffsetStore Open(MetadataStore metadata) => new(metadata.Collection("offsets"));

    internal static string GroupPrefix(string group) => string.Create(CultureInfo.InvariantCulture, $"{group.Length}:{group}/");

    internal static string Key(string group, string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{group.Length}:{group}/{topic}/{partition}");

    /// <summary>Stores every entry or none.</summary>
    public void Commit(string group, IReadOnlyList<(string Topic, int Partition, StoredOffset Offset)> offsets)
    {
        if (_collection is null || offsets.Count == 0) return;
        var entries = new List<(string, long, string?)>(offsets.Count);
        foreach (var (topic, partition, o) in offsets)
        {
            var text = o.Metadata is null
                ? o.LeaderEpoch.ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{o.LeaderEpoch}|{o.Metadata}");
            entries.Add((Key(group, topic, partition), o.Offset, text));
        }
        _collection.PutMany(entries);
    }

    public void Delete(string group, IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        if (_collection is null || partitions.Count == 0) return;
        var keys = new List<string>(partitions.Count);
        foreach (var (t, p) in partitions) keys.Add(Key(group, t, p));
        _collection.DeleteMany(keys);
    }

    /// <summary>Every stored offset, grouped by group id (start-up load).</summary>
    public Dictionary<string, Dictionary<(string Topic, int Partition), StoredOffset>> LoadAll()
    {
        var result = new Dictionary<string, Dictionary<(string, int), StoredOffset>>(StringComparer.Ordinal);
        if (_collection is null) return result;
        foreach (var e in _collection.List())
        {
            if (!TryParseKey(e.Key, out var group, out var topic, out var partition)) continue;
            var epoch = -1;
            string? metadata = null;
            if (e.Text is { } text)
            {
                var bar = text.IndexOf('|', StringComparison.Ordinal);
                _ = int.TryParse(bar < 0 ? text : text[..bar], NumberStyles.Integer, CultureInfo.InvariantCulture, out epoch);
                if (bar >= 0) metadata = text[(bar + 1)..];
            }
            if (!result.TryGetValue(group, out var offsets)) result[group] = offsets = [];
            offsets[(topic, partition)] = new StoredOffset(e.Number, epoch, metadata, e.UpdatedAt.ToUnixTimeMilliseconds());
        }
        return result;
    }

    private static bool TryParseKey(string key, out string group, out string topic, out int partition)
    {
        group = topic = "";
        partition = 0;
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !int.TryParse(key.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var length)) return false;
        var rest = colon + 1;
        if (length < 0 || rest + length + 1 > key.Length || key[rest + length] != '/') return false;
        group = key.Substring(rest, length);
        var tail = key[(rest + length + 1)..];
        var slash = tail.LastIndexOf('/');
        if (slash <= 0) return false;
        topic = tail[..slash];
        return int.TryParse(tail.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out partition);
    }
}
