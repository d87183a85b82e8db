using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using EdgeStream.Metadata;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>
/// The sender's cursors in meta.db, collection <see cref="CollectionName"/>: key "topic/partition"
/// (<see cref="KeyOf"/>), number = next local offset to forward, text = the topic id as 32 hex digits
/// (<see cref="TopicIdText"/>) so that a re-created topic starts over. Read once at start
/// (<see cref="Load"/>); which cursors are dirty is the partition set's business. Not thread-safe:
/// <see cref="StartOffset"/> runs under the forwarder's lock, the writes on the housekeeping loop.
/// </summary>
internal sealed class UplinkCursors(MetadataStore metadata, ILogger logger)
{
    public const string CollectionName = "uplink_cursors";

    private readonly Dictionary<string, MetadataEntry> _saved = new(StringComparer.Ordinal);
    private MetadataCollection? _collection;

    private MetadataCollection Collection => _collection ?? throw new InvalidOperationException("the uplink cursors are not loaded");

    /// <summary>The cursor key of a local partition.</summary>
    public static string KeyOf(string topic, int partition) => topic + "/" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>How a topic id is stored next to its cursors.</summary>
    public static string TopicIdText(Guid topicId) => topicId.ToString("N");

    /// <summary>Reads the saved cursors; each is handed out once, by <see cref="StartOffset"/>.</summary>
    public void Load()
    {
        _collection = metadata.Collection(CollectionName);
        foreach (var entry in _collection.List()) _saved[entry.Key] = entry;
    }

    /// <summary>Where a newly seen partition starts: its saved cursor if it belongs to this topic incarnation, else the log start.</summary>
    public long StartOffset(PartitionState p)
    {
        var start = p.Log.LogStartOffset;
        if (!_saved.Remove(p.CursorKey, out var saved)) return start;
        if (saved.Text is { } id && id != p.TopicId)
        {
            UplinkSenderLog.CursorReset(logger, p.Topic, p.Partition, saved.Number, p.Log.HighWatermark, start);
            p.Dirty = true;
            return start;
        }
        return saved.Number;
    }

    /// <summary>Writes <paramref name="cursors"/> in one transaction; false with the reason when that failed.</summary>
    public bool TryPut(IReadOnlyList<(string Key, long Number, string? Text)> cursors, [NotNullWhen(false)] out string? error)
    {
        try
        {
            Collection.PutMany(cursors);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or IOException)
        {
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Deletes the cursors of partitions no longer forwarded; a failure is logged.</summary>
    public void Delete(List<string> keys)
    {
        try { Collection.DeleteMany(keys); }
        catch (Exception ex) when (ex is EdgeStreamException or ObjectDisposedException or IOException) { UplinkSenderLog.CursorSaveFailed(logger, ex.Message); }
    }
}
