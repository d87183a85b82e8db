using EdgeStream.Records;

namespace EdgeStream.Storage.Transactions;

/// <summary>A transaction that ended with an abort marker: its producer's records in [FirstOffset, LastOffset] are void.</summary>
/// <param name="ProducerId">The producer whose records are aborted.</param>
/// <param name="FirstOffset">Offset of the transaction's first batch.</param>
/// <param name="LastOffset">Offset of the abort marker.</param>
public readonly record struct AbortedTransaction(long ProducerId, long FirstOffset, long LastOffset);

/// <summary>
/// A partition's transactions as the batch attributes record them: the open ones (producer id →
/// offset of its first transactional batch, which bounds the last stable offset) and the aborted
/// ones (what read_committed readers must skip). Fed every transactional batch in offset order,
/// under the partition's write lock, before the batch can become visible; read by any thread.
/// Kept in memory and rebuilt from the log when first needed after start-up (see
/// <see cref="PartitionLog.LastStableOffset"/>).
/// </summary>
internal sealed class TransactionIndex
{
    private readonly object _lock = new();
    private readonly Dictionary<long, long> _open = [];
    // In marker order, which is also LastOffset order.
    private readonly List<AbortedTransaction> _aborted = [];
    private long _firstOpen = long.MaxValue;
    private int _abortedCount;

    /// <summary>The first offset of the oldest open transaction; long.MaxValue when none is open.</summary>
    public long FirstOpenOffset => Volatile.Read(ref _firstOpen);

    /// <summary>True when some aborted transaction is still indexed: read_committed fetches of other partitions skip the lookup.</summary>
    public bool HasAborted => Volatile.Read(ref _abortedCount) > 0;

    /// <summary>Records one transactional batch at <paramref name="baseOffset"/>; <paramref name="marker"/> is its type when it is a control batch.</summary>
    public void Observe(long producerId, long baseOffset, ControlRecordType? marker)
    {
        lock (_lock)
        {
            if (marker is { } type)
            {
                // A marker with no open transaction (a retried EndTxn, recovery writing it again) changes nothing.
                if (!_open.Remove(producerId, out var first)) return;
                if (type == ControlRecordType.Abort)
                {
                    _aborted.Add(new AbortedTransaction(producerId, first, baseOffset));
                    Volatile.Write(ref _abortedCount, _aborted.Count);
                }
                var min = long.MaxValue;
                foreach (var f in _open.Values) min = Math.Min(min, f);
                Volatile.Write(ref _firstOpen, min);
            }
            else if (_open.TryAdd(producerId, baseOffset) && baseOffset < _firstOpen)
            {
                Volatile.Write(ref _firstOpen, baseOffset);
            }
        }
    }

    /// <summary>Adds the aborted transactions overlapping [<paramref name="from"/>, <paramref name="to"/>) to <paramref name="into"/>.</summary>
    public void CollectAborted(long from, long to, long logStart, List<AbortedTransaction> into)
    {
        lock (_lock)
        {
            // Entries wholly below the log start can never be read again (retention, DeleteRecords).
            var stale = 0;
            while (stale < _aborted.Count && _aborted[stale].LastOffset < logStart) stale++;
            if (stale > 0)
            {
                _aborted.RemoveRange(0, stale);
                Volatile.Write(ref _abortedCount, _aborted.Count);
            }
            var lo = 0;
            var hi = _aborted.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_aborted[mid].LastOffset < from) lo = mid + 1;
                else hi = mid;
            }
            for (var i = lo; i < _aborted.Count; i++)
                if (_aborted[i].FirstOffset < to) into.Add(_aborted[i]);
        }
    }

    /// <summary>Open transactions and aborted entries kept (for status and tests).</summary>
    public (int Open, int Aborted) Counts()
    {
        lock (_lock) return (_open.Count, _aborted.Count);
    }
}
