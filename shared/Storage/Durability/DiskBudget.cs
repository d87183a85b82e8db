using System.Globalization;

namespace EdgeStream.Storage.Durability;

/// <summary>
/// The node-wide byte budget for the log (--max-disk). Appends reserve their size before writing
/// and give it back if the write fails; deleted segments give theirs back. Reservations are a
/// compare-and-swap loop so concurrent partitions never overshoot the budget together.
/// </summary>
internal sealed class DiskBudget
{
    // A drop removes one whole segment, so a single reservation rarely needs more than a few; the
    // bound only guards against appenders that keep refilling what is freed.
    private const int MaxDropsPerReservation = 10_000;

    private readonly object _dropLock = new();
    private long _used;

    public DiskBudget(long maxBytes) => MaxBytes = maxBytes;

    /// <summary>0 means unlimited.</summary>
    public long MaxBytes { get; }
    public long UsedBytes => Volatile.Read(ref _used);

    /// <summary>
    /// Deletes one droppable segment (disk.full.policy=drop-oldest) and returns true, or returns
    /// false when there is none. Set once by <see cref="LogManager"/>; must not be called with a
    /// partition's write lock held.
    /// </summary>
    public Func<bool>? DropOne { get; set; }

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

    /// <summary>
    /// <see cref="TryReserve"/>, and when the budget is full, drops segments one at a time until the
    /// reservation fits or nothing droppable is left. Freed bytes are released to the shared budget
    /// before this caller retries, so a concurrent appender may take them first; the loop then drops
    /// the next one. Never over budget: every reservation is still the same compare-and-swap.
    /// </summary>
    public bool TryReserveOrDrop(long bytes)
    {
        if (TryReserve(bytes)) return true;
        if (DropOne is not { } drop || bytes > MaxBytes) return false;
        // One dropper at a time: appenders that find the budget full queue here and usually find
        // the room the one before them made, instead of each deleting a segment of its own.
        lock (_dropLock)
        {
            for (var i = 0; i < MaxDropsPerReservation; i++)
            {
                if (TryReserve(bytes)) return true;
                if (!drop()) return TryReserve(bytes);
            }
            return TryReserve(bytes);
        }
    }

    /// <summary>The reason a reservation of <paramref name="bytes"/> was refused, for the producer's error.</summary>
    public string DescribeRefusal(long bytes)
    {
        var max = MaxBytes.ToString(CultureInfo.InvariantCulture);
        var used = UsedBytes.ToString(CultureInfo.InvariantCulture);
        var why = bytes > MaxBytes
            ? "the append is larger than the whole budget"
            : "no topic with disk.full.policy=drop-oldest has a closed segment to drop";
        return $"disk budget of {max} bytes ({ByteSize.Format(MaxBytes)}, --max-disk) is full ({used} bytes used); refused {bytes} bytes: {why}; nothing already accepted was lost";
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);

    /// <summary>Counts bytes already on disk at start-up; may exceed the budget (then appends are refused).</summary>
    public void Account(long bytes) => Interlocked.Add(ref _used, bytes);
}
