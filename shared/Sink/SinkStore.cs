using System.Globalization;
using EdgeStream.Metadata;

namespace EdgeStream.Sink;

/// <summary>
/// The sink's progress in meta.db. <c>sink_cursors</c>: key "topic/partition", number = next local
/// offset to forward, text = the local topic id (a re-created topic starts over). <c>sink_targets</c>:
/// key "target topic/partition", number = the scanned offset, text = <see cref="TargetPartitionState.Serialize"/>.
/// Both are hints that save work: a cursor behind what was delivered re-reads records the target's
/// state then skips, and a checkpoint behind the target is caught up by scanning the rest.
/// </summary>
internal sealed class SinkStore(MetadataStore metadata)
{
    private readonly MetadataCollection _cursors = metadata.Collection("sink_cursors");
    private readonly MetadataCollection _targets = metadata.Collection("sink_targets");

    public static string KeyOf(string topic, int partition) => topic + "/" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>The saved cursor of a local partition of the topic incarnation <paramref name="topicId"/>, or null.</summary>
    public long? Cursor(string topic, int partition, Guid topicId) =>
        _cursors.TryGet(KeyOf(topic, partition), out var entry) && entry.Text == topicId.ToString("N") ? entry.Number : null;

    public void SaveCursor(string topic, int partition, Guid topicId, long next) =>
        _cursors.Put(KeyOf(topic, partition), next, topicId.ToString("N"));

    public void DeleteCursor(string topic, int partition) => _cursors.Delete(KeyOf(topic, partition));

    /// <summary>The state of a target partition as last saved (empty when never saved or unreadable).</summary>
    public TargetPartitionState LoadTarget(string topic, int partition)
    {
        var state = new TargetPartitionState(topic, partition);
        if (_targets.TryGet(KeyOf(topic, partition), out var entry) && entry.Text is { } text) state.TryLoad(text);
        return state;
    }

    public void SaveTarget(TargetPartitionState state) =>
        _targets.Put(KeyOf(state.Topic, state.Partition), state.ScannedTo, state.Serialize());
}
