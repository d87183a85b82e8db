using EdgeStream.Kafka.Groups;
using EdgeStream.Metadata;

namespace EdgeStream.Kafka.Transactions;

/// <summary>
/// Transaction state in the metadata store's <c>transactions</c> collection: one entry per
/// transactional id (number = producer id, text = JSON of the rest). Written before a transaction
/// operation is answered, and PrepareCommit/PrepareAbort before any marker is written, so after a
/// crash the coordinator knows every partition that may hold the transaction's records and which
/// way it was decided. LiteDB commits each write before Put returns.
/// </summary>
internal sealed class TransactionStore
{
    private readonly MetadataCollection? _collection;

    /// <param name="collection">Null keeps state in memory only (tests without a metadata store).</param>
    public TransactionStore(MetadataCollection? collection) => _collection = collection;

    public static TransactionStore Open(MetadataStore metadata) => new(metadata.Collection("transactions"));

    public void Save(TransactionMetadata t)
    {
        if (_collection is null) return;
        var partitions = new List<string>(t.Partitions.Count);
        foreach (var (topic, partition) in t.Partitions) partitions.Add(PartitionKey(topic, partition));
        var offsets = new List<StoredTxnOffset>(t.Offsets.Count);
        foreach (var o in t.Offsets)
            offsets.Add(new StoredTxnOffset(o.Group, o.Topic, o.Partition, o.Offset.Offset, o.Offset.LeaderEpoch, o.Offset.Metadata, o.Offset.CommitTimestampMs));
        var stored = new StoredTransaction(t.Epoch, t.TimeoutMs, t.State.ToString(), t.StartTimeMs, partitions, [.. t.Groups], offsets);
        _collection.Put(t.TransactionalId, t.ProducerId, StoredTransactionJson.Write(stored));
    }

    public List<TransactionMetadata> LoadAll()
    {
        var result = new List<TransactionMetadata>();
        if (_collection is null) return result;
        foreach (var entry in _collection.List())
        {
            if (entry.Text is null) continue;
            var stored = StoredTransactionJson.TryRead(entry.Text);
            if (stored is null || !Enum.TryParse<TransactionState>(stored.State, out var state)) continue;
            var t = new TransactionMetadata(entry.Key)
            {
                ProducerId = entry.Number,
                Epoch = stored.Epoch,
                TimeoutMs = stored.TimeoutMs,
                State = state,
                StartTimeMs = stored.StartTimeMs,
                Groups = new HashSet<string>(stored.Groups, StringComparer.Ordinal),
            };
            var partitions = new HashSet<(string, int)>();
            foreach (var p in stored.Partitions)
                if (TryParsePartitionKey(p, out var topic, out var partition)) partitions.Add((topic, partition));
            t.Partitions = partitions;
            foreach (var o in stored.Offsets)
                t.Offsets.Add(new PendingOffset(o.Group, o.Topic, o.Partition, new StoredOffset(o.Offset, o.LeaderEpoch, o.Metadata, o.CommitTimestampMs)));
            result.Add(t);
        }
        return result;
    }

    // Topic names hold no '/', so the last one separates the partition.
    private static string PartitionKey(string topic, int partition) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{topic}/{partition}");

    private static bool TryParsePartitionKey(string key, out string topic, out int partition)
    {
        var slash = key.LastIndexOf('/');
        topic = slash > 0 ? key[..slash] : "";
        partition = -1;
        return slash > 0 && int.TryParse(key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out partition);
    }
}

internal sealed record StoredTransaction(short Epoch, int TimeoutMs, string State, long StartTimeMs, List<string> Partitions, List<string> Groups, List<StoredTxnOffset> Offsets);

internal sealed record StoredTxnOffset(string Group, string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata, long CommitTimestampMs);
