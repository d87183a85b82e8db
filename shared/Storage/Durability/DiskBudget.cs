namespace EdgeStream.Storage.Durability;

/// <summary>
/// The node-wide byte budget for the log (--max-disk). Appends reserve their size before writing
/// and give it back if the write fails; deleted segments give theirs back. Reservations are a
/// compare-and-swap loop so concurrent partitions never overshoot the budget together.
/// </summary>
internal sealed class DiskBudget
{
    private long _used;

    public DiskBudget(long maxBytes) => MaxBytes = maxBytes;

    /// <summary>0 means unlimited.</summary>
    public long MaxBytes { get; }
    public long UsedBytes => Volatile.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        while (true)
        {
            var used = Volatile.Read(ref _used);
            var next = used + bytes;
            if (MaxBytes > 0 && next > MaxBytes) return false;
            if (Interlocked.CompareExchange(ref _used, next, used) == used) return true;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);

    /// <summary>Counts bytes already on disk at start-up; may exceed the budget (then appends are refused).</summary>
    public void Account(long bytes) => Interlocked.Add(ref _used, bytes);
}
