using System.Diagnostics.CodeAnalysis;

namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Encoded frames read from the log ahead of sending, queued per partition
/// (<see cref="PartitionState.Pending"/>) under one byte budget over all partitions: beyond it
/// leftovers are forgotten and read again when their turn comes. Guarded by the forwarder's lock.
/// </summary>
internal sealed class ReadAheadBudget(long limitBytes)
{
    private long _bytes;

    /// <summary>Takes the oldest frame <paramref name="p"/> read ahead, if any.</summary>
    public bool TryTake(PartitionState p, [MaybeNullWhen(false)] out PendingFrame frame)
    {
        if (!p.Pending.TryDequeue(out frame)) return false;
        _bytes -= frame.Payload.Length;
        return true;
    }

    /// <summary>Queues <paramref name="frame"/> on <paramref name="p"/>; false (nothing queued) when over the budget.</summary>
    public bool TryHold(PartitionState p, PendingFrame frame)
    {
        if (_bytes + frame.Payload.Length > limitBytes) return false;
        _bytes += frame.Payload.Length;
        p.Pending.Enqueue(frame);
        return true;
    }

    /// <summary>Forgets everything <paramref name="p"/> read ahead.</summary>
    public void Release(PartitionState p)
    {
        foreach (var f in p.Pending) _bytes -= f.Payload.Length;
        p.Pending.Clear();
    }
}
