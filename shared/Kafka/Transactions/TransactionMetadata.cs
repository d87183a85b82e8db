using EdgeStream.Kafka.Groups;

namespace EdgeStream.Kafka.Transactions;

/// <summary>Kafka's transaction states, as ListTransactions and DescribeTransactions name them.</summary>
public enum TransactionState
{
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

/// <summary>An offset sent with TxnOffsetCommit: held until the transaction ends, made visible only by a commit.</summary>
public readonly record struct PendingOffset(string Group, string Topic, int Partition, StoredOffset Offset);

/// <summary>
/// One transactional id: its producer id and epoch and the transaction it has open. Mutated only
/// by the coordinator while it holds <see cref="Gate"/>; the produce path reads the epoch, state and
/// partitions without it (a stale read only refuses or admits one batch the epoch check at the
/// partition then decides).
/// </summary>
internal sealed class TransactionMetadata(string transactionalId)
{
    public string TransactionalId { get; } = transactionalId;
    public SemaphoreSlim Gate { get; } = new(1, 1);
    public long ProducerId { get; set; } = -1;
    public short Epoch { get; set; } = -1;
    public int TimeoutMs { get; set; }
    public volatile TransactionState State = TransactionState.Empty;
    /// <summary>Wall-clock ms when the open transaction added its first partition or group; -1 when none is open.</summary>
    public long StartTimeMs { get; set; } = -1;
    /// <summary>Replaced, never mutated, once published: the produce path reads it without the gate.</summary>
    public volatile HashSet<(string Topic, int Partition)> Partitions = [];
    public HashSet<string> Groups { get; set; } = new(StringComparer.Ordinal);
    public List<PendingOffset> Offsets { get; set; } = [];

    public bool IsOpen => State == TransactionState.Ongoing;
    public bool IsPreparing => State is TransactionState.PrepareCommit or TransactionState.PrepareAbort;
}
