using System.Buffers;
using System.Runtime.CompilerServices;
using EdgeStream.Records;
using EdgeStream.Storage;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Receiving;

/// <summary>What <see cref="OriginDeduplicator.Write"/> did with a frame.</summary>
/// <param name="Written">Records appended (0: every record was already stored, a duplicate).</param>
/// <param name="Durable">Completes once the frame's records are durable (for a duplicate: once the write that stored them is).</param>
/// <param name="OriginLastOffset">Highest origin offset of the stream stored in the partition after this frame.</param>
public readonly record struct DedupWrite(int Written, Task Durable, long OriginLastOffset)
{
    public bool IsDuplicate => Written == 0;
}

/// <summary>
/// De-duplication of uplinked records: per target partition, per origin stream id, the set of
/// origin offset ranges already stored (<see cref="OriginRangeSet"/>). The state is rebuilt lazily
/// from the partition's own batch headers the first time a partition is used after start-up, so it
/// is exactly as durable as the data: a batch that did not survive a crash is not in the state
/// either. Check and append are one step under a per-partition lock (as
/// <c>ProducerStateManager</c> does for Kafka producers); an append that fails rolls its ranges back.
/// </summary>
public sealed class OriginDeduplicator
{
    private readonly ConditionalWeakTable<PartitionLog, PartitionOrigins> _partitions = new();
    private readonly int _maxRangesPerStream;

    public OriginDeduplicator(int maxRangesPerStream = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRangesPerStream, 1);
        _maxRangesPerStream = maxRangesPerStream;
    }

    private sealed class PartitionOrigins
    {
        public readonly Dictionary<long, OriginRangeSet> Streams = new();
        public readonly List<OffsetRange> Missing = new();
        /// <summary>The latest append issued to the partition: durable in log order, so once it is, every earlier one is.</summary>
        public Task? LastAppend;
    }

    /// <summary>
    /// Writes the records of <paramref name="frame"/> not yet stored in <paramref name="partition"/>
    /// for stream <paramref name="streamId"/>, one or more batches per contiguous new sub-range. The
    /// append is started before returning (so appends to one partition keep arrival order) but not
    /// awaited: <see cref="DedupWrite.Durable"/> completes when it is durable, or faults
    /// (<see cref="DiskFullException"/>, <see cref="StorageException"/>). Throws
    /// <see cref="RecordTooLargeException"/> when a record cannot fit in the target topic.
    /// <paramref name="compress"/>: store LZ4-compressed batches (see <see cref="UplinkBatchWriter.Write"/>).
    /// </summary>
    public DedupWrite Write(PartitionLog partition, int maxMessageBytes, long streamId, UplinkFrame frame, bool compress = true)
    {
        var first = frame.FirstOriginOffset;
        var last = frame.LastOriginOffset;
        var state = _partitions.GetValue(partition, Rebuild);
        bool fullyNew;
        lock (state)
        {
            var ranges = Ranges(state, streamId);
            if (ranges.Covers(first, last)) return Duplicate(state, ranges);
            fullyNew = ranges.Disjoint(first, last);
        }

        // The common case (nothing of the frame stored yet): build and compress outside the lock.
        // The batches go to pooled buffers: PartitionLog.AppendAsync copies them into the segment
        // before it returns (only the fsync wait is asynchronous), so they go back to the pool here.
        PooledBufferWriter? prebuilt = null;
        try
        {
            if (fullyNew)
            {
                prebuilt = new PooledBufferWriter(BatchBufferSize(frame, maxMessageBytes));
                UplinkBatchWriter.Write(frame, streamId, 0, frame.Records.Count, maxMessageBytes, prebuilt, compress);
            }
            return WriteLocked(partition, maxMessageBytes, streamId, frame, compress, state, prebuilt);
        }
        finally
        {
            prebuilt?.Dispose();
        }
    }

    // About the stored size of a frame: its records plus the origin headers (~70 bytes per record).
    private static int BatchBufferSize(UplinkFrame frame, int maxMessageBytes) =>
        (int)Math.Min(Math.Max(maxMessageBytes, 64 * 1024), 4096 + (long)frame.Records.Count * 96 + EstimatePayload(frame));

    private static long EstimatePayload(UplinkFrame frame)
    {
        var records = frame.Records;
        // The first record stands for all of them: a hint, the writer grows if it is short.
        var r = records[0];
        return (long)records.Count * ((r.Key?.Length ?? 0) + (r.Value?.Length ?? 0));
    }

    private DedupWrite WriteLocked(PartitionLog partition, int maxMessageBytes, long streamId, UplinkFrame frame, bool compress, PartitionOrigins state, PooledBufferWriter? prebuilt)
    {
        var first = frame.FirstOriginOffset;
        var last = frame.LastOriginOffset;
        PooledBufferWriter? rebuilt = null;
        lock (state)
        {
            try
            {
                var ranges = Ranges(state, streamId);
                var missing = state.Missing;
                missing.Clear();
                ranges.Missing(first, last, missing);
                if (missing.Count == 0) return Duplicate(state, ranges);

                PooledBufferWriter batches;
                if (prebuilt is not null && missing.Count == 1 && missing[0].First == first && missing[0].Last == last)
                {
                    batches = prebuilt;
                }
                else
                {
                    // Another frame of the stream landed meanwhile, or a re-send overlaps what is stored.
                    batches = rebuilt = new PooledBufferWriter(BatchBufferSize(frame, maxMessageBytes));
                    foreach (var m in missing)
                        UplinkBatchWriter.Write(frame, streamId, (int)(m.First - first), (int)(m.Last - first + 1), maxMessageBytes, batches, compress);
                }

                var added = missing.ToArray();
                var written = 0;
                foreach (var m in added)
                {
                    ranges.Add(m.First, m.Last);
                    written += (int)m.Count;
                }

                Task append;
                try
                {
                    // We own the buffer: the log writes base offsets into it.
                    append = partition.AppendAsync(batches.WrittenMemory).AsTask();
                }
                catch
                {
                    foreach (var m in added) ranges.Remove(m.First, m.Last);
                    throw;
                }

                if (append.IsCompleted)
                {
                    // Refused before anything was written (disk budget, validation): the ranges were never stored.
                    if (!append.IsCompletedSuccessfully)
                    {
                        foreach (var m in added) ranges.Remove(m.First, m.Last);
                        return new DedupWrite(written, append, ranges.Last);
                    }
                }
                else
                {
                    // A write that fails after this point was never acknowledged: let the re-send through.
                    _ = append.ContinueWith(t =>
                    {
                        lock (state)
                        {
                            foreach (var m in added) ranges.Remove(m.First, m.Last);
                            if (ReferenceEquals(state.LastAppend, t)) state.LastAppend = null;
                        }
                    }, CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                state.LastAppend = append;
                return new DedupWrite(written, append, ranges.Last);
            }
            finally
            {
                rebuilt?.Dispose();
            }
        }
    }

    private static DedupWrite Duplicate(PartitionOrigins state, OriginRangeSet ranges)
    {
        // The records may belong to an append still in flight: answer once it is durable.
        var pending = state.LastAppend;
        return new DedupWrite(0, pending is null || pending.IsCompletedSuccessfully ? Task.CompletedTask : pending, ranges.Last);
    }

    private OriginRangeSet Ranges(PartitionOrigins state, long streamId)
    {
        if (!state.Streams.TryGetValue(streamId, out var ranges))
            state.Streams[streamId] = ranges = new OriginRangeSet(_maxRangesPerStream);
        return ranges;
    }

    private PartitionOrigins Rebuild(PartitionLog partition)
    {
        var state = new PartitionOrigins();
        partition.ScanBatchHeaders(h =>
        {
            if (!OriginStreamRegistry.IsStreamId(h.ProducerId) || h.ProducerEpoch < 0 || h.BaseSequence < 0 || h.LastOffsetDelta < 0) return;
            var first = UplinkBatchWriter.FirstOriginOffset(h);
            Ranges(state, h.ProducerId).Add(first, first + h.LastOffsetDelta);
        });
        return state;
    }
}
