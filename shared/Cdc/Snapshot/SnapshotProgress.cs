using EdgeStream.Metadata;

namespace EdgeStream.Cdc;

/// <summary>
/// Per source and table, how far the snapshot got, in meta.db (collection <c>cdc_snapshot</c>, key
/// <c>{source}/{schema.table}</c>): text <c>pending</c>, <c>done</c> or the last chunk's end key (JSON),
/// number = the topic's log end when it was saved, from where a restart looks for a later chunk the
/// log holds (<see cref="Capture.CdcLogWriter.LastSnapshotCursor"/>).
/// </summary>
internal sealed class SnapshotProgress
{
    public const string Pending = "pending";
    public const string Done = "done";
    private const string CollectionName = "cdc_snapshot";
    private readonly MetadataCollection _collection;
    private readonly string _source;

    public SnapshotProgress(MetadataStore metadata, string source)
    {
        _collection = metadata.Collection(CollectionName);
        _source = source;
    }

    private string Key(string table) => $"{_source}/{table}";

    public bool TryGet(string table, out string state, out long offset)
    {
        if (_collection.TryGet(Key(table), out var entry) && entry.Text is not null)
        {
            state = entry.Text;
            offset = entry.Number;
            return true;
        }
        state = Pending;
        offset = 0;
        return false;
    }

    public void Save(string table, string state, long offset) => _collection.Put(Key(table), offset, state);
}
