using System.Collections.Concurrent;
using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Producers;
using EdgeStream.Kafka.Server;
using EdgeStream.Metadata;
using EdgeStream.Records;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Kafka.Transactions;

/// <summary>
/// Kafka's transaction coordinator for one broker (KIP-98). Per transactional id: the producer id
/// and epoch, the state, the partitions and groups of the open transaction, its pending offsets.
/// Every change is saved before it is answered; ending a transaction saves PrepareCommit or
/// PrepareAbort, writes a marker to each partition (waiting until they are durable), applies or
/// drops the offsets and saves CompleteCommit/CompleteAbort. A crash between the two saves is
/// finished at the next request for the id or the first <see cref="Tick"/> after start-up (markers
/// are idempotent: a second one for a closed transaction changes nothing). An Ongoing transaction
/// survives a restart as it does a Kafka coordinator failover: the producer may still commit it;
/// otherwise its timeout aborts it. One operation per id at a time (<see cref="TransactionMetadata.Gate"/>).
/// </summary>
public sealed class TransactionCoordinator
{
    /// <summary>Kafka's transaction.max.timeout.ms default: a producer asking for more gets INVALID_TRANSACTION_TIMEOUT.</summary>
    public const int MaxTimeoutMs = 900_000;

    private readonly ConcurrentDictionary<string, TransactionMetadata> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, TransactionMetadata> _byProducerId = new();
    private readonly Func<TopicCatalog> _catalog;
    private readonly ProducerIdAllocator _producerIds;
    private readonly ProducerStateManager _producers;
    private readonly GroupCoordinator _groups;
    private readonly TransactionStore _store;
    private readonly ILogger _logger;
    private readonly Func<long> _now;
    private int _recovered;

    internal TransactionCoordinator(Func<TopicCatalog> catalog, ProducerIdAllocator producerIds, ProducerStateManager producers,
        GroupCoordinator groups, MetadataStore? metadata, ILogger logger, Func<long>? wallClockMs = null)
    {
        _catalog = catalog;
        _producerIds = producerIds;
        _producers = producers;
        _groups = groups;
        _store = metadata is null ? new TransactionStore(null) : TransactionStore.Open(metadata);
        _logger = logger;
        _now = wallClockMs ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var t in _store.LoadAll())
        {
            _byId[t.TransactionalId] = t;
            _byProducerId[t.ProducerId] = t;
        }
    }

    /// <summary>What ListTransactions and DescribeTransactions report about one id.</summary>
    public sealed record Summary(string TransactionalId, long ProducerId, short Epoch, TransactionState State, int TimeoutMs, long StartTimeMs,
        IReadOnlyList<(string Topic, int Partition)> Partitions);

    // ---- InitProducerId ---------------------------------------------------------------------
    /// <summary>
    /// The producer id of <paramref name="transactionalId"/> with its epoch bumped, which fences any
    /// older instance; an open transaction of the old epoch is aborted first (its markers carry the
    /// new epoch). A producer that names its current id and epoch (KIP-360) gets the same bump.
    /// </summary>
    public async Task<(KafkaErrorCode Error, long ProducerId, short Epoch)> InitProducerAsync(string transactionalId, int timeoutMs,
        long producerId, short epoch, CancellationToken cancellationToken)
    {
        if (timeoutMs <= 0 || timeoutMs > MaxTimeoutMs) return (KafkaErrorCode.InvalidTransactionTimeout, -1, -1);
        var t = _byId.GetOrAdd(transactionalId, static id => new TransactionMetadata(id));
        await t.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FinishPreparedAsync(t, cancellationToken).ConfigureAwait(false);
            if (producerId >= 0 && t.ProducerId >= 0 && (producerId != t.ProducerId || epoch != t.Epoch))
                return (epoch < t.Epoch && producerId == t.ProducerId ? KafkaErrorCode.ProducerFenced : KafkaErrorCode.InvalidProducerIdMapping, -1, -1);
            if (t.ProducerId < 0 || t.Epoch >= short.MaxValue - 2)
            {
                // A new id, or epochs used up: a fresh producer id (old instances hold the old one and stay fenced).
                if (t.ProducerId >= 0) _byProducerId.TryRemove(t.ProducerId, out _);
                t.ProducerId = _producerIds.Allocate();
                t.Epoch = -1;
                _byProducerId[t.ProducerId] = t;
            }
            t.Epoch++;
            if (t.IsOpen)
                await EndAsync(t, ControlRecordType.Abort, "a new producer instance took over the transactional id", cancellationToken).ConfigureAwait(false);
            t.TimeoutMs = timeoutMs;
            ResetToEmpty(t);
            _store.Save(t);
            return (KafkaErrorCode.None, t.ProducerId, t.Epoch);
        }
        finally
        {
            t.Gate.Release();
        }
    }

    // ---- AddPartitionsToTxn / AddOffsetsToTxn / TxnOffsetCommit ----------------------------
    /// <summary>Adds partitions to the producer's transaction (opening one if none is). One error for all, or per partition.</summary>
    public async Task<(KafkaErrorCode Error, Dictionary<(string, int), KafkaErrorCode>? PerPartition)> AddPartitionsAsync(string transactionalId,
        long producerId, short epoch, IReadOnlyList<(string Topic, int Partition)> partitions, bool verifyOnly, short fencedCode, CancellationToken cancellationToken)
    {
        if (!_byId.TryGetValue(transactionalId, out var t)) return (KafkaErrorCode.InvalidProducerIdMapping, null);
        await t.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FinishPreparedAsync(t, cancellationToken).ConfigureAwait(false);
            if (Validate(t, producerId, epoch, fencedCode) is { } invalid) return (invalid, null);
            if (verifyOnly)
            {
                var verified = new Dictionary<(string, int), KafkaErrorCode>();
                foreach (var p in partitions) verified[p] = t.IsOpen && t.Partitions.Contains(p) ? KafkaErrorCode.None : KafkaErrorCode.InvalidTxnState;
                return (KafkaErrorCode.None, verified);
            }
            var errors = new Dictionary<(string, int), KafkaErrorCode>();
            var failed = false;
            foreach (var p in partitions)
            {
                var exists = _catalog().TryGet(p.Topic, out var topic) && topic is not null && topic.TryGetPartition(p.Partition, out _);
                errors[p] = exists ? KafkaErrorCode.None : KafkaErrorCode.UnknownTopicOrPartition;
                failed |= !exists;
            }
            if (failed)
            {
                // Kafka's rule: all or nothing; the partitions that were fine were not attempted.
                foreach (var p in partitions)
                    if (errors[p] == KafkaErrorCode.None) errors[p] = KafkaErrorCode.OperationNotAttempted;
                return (KafkaErrorCode.None, errors);
            }
            Open(t);
            var added = new HashSet<(string, int)>(t.Partitions);
            foreach (var p in partitions) added.Add(p);
            t.Partitions = added;
            _store.Save(t);
            return (KafkaErrorCode.None, errors);
        }
        finally
        {
            t.Gate.Release();
        }
    }

    /// <summary>AddOffsetsToTxn: the group's offsets will be committed with the transaction.</summary>
    public async Task<KafkaErrorCode> AddGroupAsync(string transactionalId, long producerId, short epoch, string groupId, short fencedCode, CancellationToken cancellationToken)
    {
        if (groupId.Length == 0) return KafkaErrorCode.InvalidGroupId;
        if (!_byId.TryGetValue(transactionalId, out var t)) return KafkaErrorCode.InvalidProducerIdMapping;
        await t.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FinishPreparedAsync(t, cancellationToken).ConfigureAwait(false);
            if (Validate(t, producerId, epoch, fencedCode) is { } invalid) return invalid;
            Open(t);
            t.Groups.Add(groupId);
            _store.Save(t);
            return KafkaErrorCode.None;
        }
        finally
        {
            t.Gate.Release();
        }
    }

    /// <summary>TxnOffsetCommit: offsets held with the transaction until it ends. The group must have been added.</summary>
    public async Task<KafkaErrorCode> AddOffsetsAsync(string transactionalId, long producerId, short epoch, string groupId,
        IReadOnlyList<(string Topic, int Partition, StoredOffset Offset)> offsets, short fencedCode, CancellationToken cancellationToken)
    {
        if (!_byId.TryGetValue(transactionalId, out var t)) return KafkaErrorCode.InvalidProducerIdMapping;
        await t.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Validate(t, producerId, epoch, fencedCode) is { } invalid) return invalid;
            if (!t.IsOpen || !t.Groups.Contains(groupId)) return KafkaErrorCode.InvalidTxnState;
            foreach (var (topic, partition, offset) in offsets)
            {
                t.Offsets.RemoveAll(o => o.Group == groupId && o.Topic == topic && o.Partition == partition);
                t.Offsets.Add(new PendingOffset(groupId, topic, partition, offset));
            }
            _store.Save(t);
            return KafkaErrorCode.None;
        }
        finally
        {
            t.Gate.Release();
        }
    }

    // ---- EndTxn -----------------------------------------------------------------------------
    /// <summary>
    /// Commits or aborts the open transaction and answers once every marker is durable (and, for a
    /// commit, its offsets are stored). A retry of an end already done is answered as success.
    /// </summary>
    public async Task<KafkaErrorCode> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit, short fencedCode, CancellationToken cancellationToken)
    {
        if (!_byId.TryGetValue(transactionalId, out var t)) return KafkaErrorCode.InvalidProducerIdMapping;
        await t.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FinishPreparedAsync(t, cancellationToken).ConfigureAwait(false);
            if (Validate(t, producerId, epoch, fencedCode) is { } invalid) return invalid;
            switch (t.State)
            {
                case TransactionState.Ongoing:
                    await EndAsync(t, commit ? ControlRecordType.Commit : ControlRecordType.Abort, null, cancellationToken).ConfigureAwait(false);
                    return KafkaErrorCode.None;
                case TransactionState.CompleteCommit when commit:
                case TransactionState.CompleteAbort when !commit:
                    return KafkaErrorCode.None;
                default:
                    return KafkaErrorCode.InvalidTxnState;
            }
        }
        finally
        {
            t.Gate.Release();
        }
    }

    // ---- produce path -----------------------------------------------------------------------
    /// <summary>
    /// Checks a transactional batch before it is appended: the producer's current epoch, an open
    /// transaction that holds the partition. Non-transactional batches never get here.
    /// </summary>
    public KafkaErrorCode CheckProduce(long producerId, short epoch, string topic, int partition)
    {
        if (!_byProducerId.TryGetValue(producerId, out var t)) return KafkaErrorCode.InvalidProducerIdMapping;
        if (epoch != t.Epoch) return KafkaErrorCode.InvalidProducerEpoch;
        if (!t.IsOpen || !t.Partitions.Contains((topic, partition))) return KafkaErrorCode.InvalidTxnState;
        return KafkaErrorCode.None;
    }

    // ---- clocks and recovery ----------------------------------------------------------------
    /// <summary>
    /// Run periodically: the first call finishes what a crash left prepared; every call aborts the
    /// open transactions past their timeout (bumping the epoch, so the producer is fenced as in
    /// Kafka). Ids busy with another operation are left for the next tick.
    /// </summary>
    public async Task TickAsync(CancellationToken cancellationToken = default)
    {
        var recovering = Interlocked.Exchange(ref _recovered, 1) == 0;
        var now = _now();
        foreach (var t in _byId.Values)
        {
            var expired = t.IsOpen && t.StartTimeMs >= 0 && now - t.StartTimeMs > t.TimeoutMs;
            if (!expired && !t.IsPreparing) continue;
            if (!await t.Gate.WaitAsync(0, cancellationToken).ConfigureAwait(false)) continue;
            try
            {
                if (t.IsPreparing)
                {
                    if (recovering) TransactionLog.Recovering(_logger, t.TransactionalId, t.ProducerId, t.State.ToString());
                    await FinishPreparedAsync(t, cancellationToken).ConfigureAwait(false);
                }
                else if (t.IsOpen && now - t.StartTimeMs > t.TimeoutMs)
                {
                    t.Epoch++;
                    await EndAsync(t, ControlRecordType.Abort, $"open for more than transaction.timeout.ms ({t.TimeoutMs} ms)", cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is EdgeStreamException or IOException)
            {
                TransactionLog.CompletionFailed(_logger, t.TransactionalId, t.State.ToString(), ex.Message);
            }
            finally
            {
                t.Gate.Release();
            }
        }
    }

    /// <summary>Every known transactional id (ListTransactions).</summary>
    public List<Summary> List()
    {
        var list = new List<Summary>(_byId.Count);
        foreach (var t in _byId.Values)
            if (t.ProducerId >= 0) list.Add(Describe(t));
        return list;
    }

    /// <summary>One transactional id (DescribeTransactions), or null when it is unknown.</summary>
    public Summary? Describe(string transactionalId) =>
        _byId.TryGetValue(transactionalId, out var t) && t.ProducerId >= 0 ? Describe(t) : null;

    private static Summary Describe(TransactionMetadata t) =>
        new(t.TransactionalId, t.ProducerId, t.Epoch, t.State, t.TimeoutMs, t.StartTimeMs, [.. t.Partitions]);

    // ---- the state machine ------------------------------------------------------------------
    private static KafkaErrorCode? Validate(TransactionMetadata t, long producerId, short epoch, short fencedCode)
    {
        if (producerId != t.ProducerId) return KafkaErrorCode.InvalidProducerIdMapping;
        if (epoch != t.Epoch) return (KafkaErrorCode)fencedCode;
        return null;
    }

    private void Open(TransactionMetadata t)
    {
        if (t.IsOpen) return;
        ResetToEmpty(t);
        t.State = TransactionState.Ongoing;
        t.StartTimeMs = _now();
    }

    private static void ResetToEmpty(TransactionMetadata t)
    {
        if (t.State is TransactionState.Ongoing) return;
        t.State = TransactionState.Empty;
        t.Partitions = [];
        t.Groups.Clear();
        t.Offsets.Clear();
        t.StartTimeMs = -1;
    }

    // Under the gate: decide (saved), then complete.
    private async Task EndAsync(TransactionMetadata t, ControlRecordType outcome, string? abortReason, CancellationToken cancellationToken)
    {
        t.State = outcome == ControlRecordType.Commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort;
        _store.Save(t);
        if (abortReason is not null) TransactionLog.Aborted(_logger, t.TransactionalId, t.ProducerId, t.Epoch, abortReason);
        await CompleteAsync(t, cancellationToken).ConfigureAwait(false);
    }

    private Task FinishPreparedAsync(TransactionMetadata t, CancellationToken cancellationToken) =>
        t.IsPreparing ? CompleteAsync(t, cancellationToken) : Task.CompletedTask;

    // Under the gate, state PrepareCommit/PrepareAbort: markers, offsets, then the completed state.
    // Throws (state still prepared, to be completed by a retry or the next tick) when a marker cannot be written.
    private async Task CompleteAsync(TransactionMetadata t, CancellationToken cancellationToken)
    {
        var commit = t.State == TransactionState.PrepareCommit;
        var type = commit ? ControlRecordType.Commit : ControlRecordType.Abort;
        var catalog = _catalog();
        var now = _now();
        var appends = new List<Task<AppendResult>>(t.Partitions.Count);
        foreach (var (topicName, index) in t.Partitions)
        {
            // A partition whose topic was deleted meanwhile has nothing left to mark.
            if (!catalog.TryGet(topicName, out var topic) || topic is null || !topic.TryGetPartition(index, out var partition)) continue;
            var marker = ControlBatch.Build(t.ProducerId, t.Epoch, type, 0, now);
            appends.Add(_producers.AppendMarkerAsync(partition!, t.ProducerId, t.Epoch, marker, cancellationToken).AsTask());
        }
        await Task.WhenAll(appends).ConfigureAwait(false);
        if (commit && t.Offsets.Count > 0)
        {
            foreach (var group in t.Groups)
            {
                var offsets = new List<(string, int, StoredOffset)>();
                foreach (var o in t.Offsets)
                    if (o.Group == group) offsets.Add((o.Topic, o.Partition, o.Offset));
                _groups.CommitTransactionalOffsets(group, offsets);
            }
        }
        t.State = commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort;
        _store.Save(t);
    }
}
