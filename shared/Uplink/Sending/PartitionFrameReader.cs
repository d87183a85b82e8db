using EdgeStream.Records;
using EdgeStream.Storage;
using EdgeStream.Storage.Transactions;
using EdgeStream.Uplink.Protocol;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Uplink.Sending;

/// <summary>An encoded frame read from a partition's log: local offsets [LocalStart, LocalEnd).</summary>
internal sealed record PendingFrame(byte[] Payload, int RawLength, int Records, long LocalStart, long LocalEnd);

/// <summary>
/// Reads a partition's log into encoded frames: whole stored batches up to the durable offset,
/// cut by <see cref="UplinkFrameBuilder"/> and encoded with <see cref="UplinkFrameCodec"/> before the
/// read buffer goes back to the pool. Holds no per-partition state.
/// </summary>
internal sealed class PartitionFrameReader(string nodeId, bool relayOrigins, ILogger logger)
{
    /// <summary>Reads about <paramref name="target"/> bytes at <paramref name="from"/> and encodes them as frames; null when the read failed.</summary>
    public List<PendingFrame>? Read(PartitionState p, long from, int target, out long next)
    {
        next = from;
        try
        {
            using var read = p.Log.Read(from, target);
            if (read.IsEmpty) return [];
            // Only what is on disk goes up (matters under --fsync os): an offset forwarded and then lost
            // to a power cut would be assigned again here, and the parent would take the new records
            // at that offset for duplicates. And only what is committed: nothing past the last stable
            // offset, and no record of an aborted transaction, ever leaves the node.
            var memory = DurablePart(read.Memory, p.ForwardableOffset);
            if (memory.IsEmpty) return [];
            var built = new List<BuiltFrame>();
            var source = new FrameSource(nodeId, p.Topic, p.Partition, p.PartitionCount, p.TargetTopic, relayOrigins);
            var aborted = AbortedIn(p, memory, from);
            next = UplinkFrameBuilder.Build(memory, from, source, target, built, aborted);
            if (next == from && built.Count == 0) return null; // no whole batch: do not spin on it
            var frames = new List<PendingFrame>(built.Count);
            foreach (var b in built)
            {
                // Encode before the read buffer goes back to the pool: records slice it.
                var payload = UplinkFrameCodec.Encode(b.Frame, b.EstimatedBytes + b.Frame.Records.Count * 8 + 1024, out var raw);
                frames.Add(new PendingFrame(payload, raw, b.Frame.Records.Count, b.LocalStart, b.LocalEnd));
            }
            return frames;
        }
        catch (OffsetOutOfRangeException)
        {
            // Deleted under us by retention: the range check on the next pick moves past it.
            return [];
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException or ObjectDisposedException or InvalidUplinkFrameException)
        {
            UplinkSenderLog.ReadFailed(logger, p.Topic, p.Partition, from, ex.Message);
            return null;
        }
    }

    /// <summary>The aborted transactions the batches overlap; null (nothing to check) when none of them is transactional.</summary>
    private static List<AbortedTransaction>? AbortedIn(PartitionState p, ReadOnlyMemory<byte> batches, long from)
    {
        long end = from;
        var transactional = false;
        for (var rest = batches.Span; rest.Length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(rest, out var h) && h.TotalSize <= rest.Length; rest = rest[h.TotalSize..])
        {
            transactional |= h.IsTransactional && !h.IsControl;
            end = h.LastOffset + 1;
        }
        if (!transactional || !p.Log.HasAbortedTransactions) return null;
        var aborted = new List<AbortedTransaction>();
        p.Log.CollectAbortedTransactions(from, end, aborted);
        return aborted.Count == 0 ? null : aborted;
    }

    /// <summary>The whole batches of <paramref name="batches"/> that end at or below <paramref name="durable"/>.</summary>
    private static ReadOnlyMemory<byte> DurablePart(ReadOnlyMemory<byte> batches, long durable)
    {
        var length = 0;
        while (batches.Length - length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(batches.Span[length..], out var h)
               && h.TotalSize <= batches.Length - length && h.BaseOffset + h.LastOffsetDelta < durable)
            length += h.TotalSize;
        return length == batches.Length ? batches : batches[..length];
    }
}
