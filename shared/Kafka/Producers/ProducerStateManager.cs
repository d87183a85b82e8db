using System.Collections.Concurrent;
using EdgeStream.Records;
using EdgeStream.Kafka.Server;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Producers;

/// <summary>
/// Idempotent producers (KIP-98): per partition and producer id, the current epoch and the last
/// five batches' sequence ranges with their offsets. A batch whose sequences match one of those
/// five is a retry and gets the original offsets without being written again; a gap gets
/// OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH. The state is rebuilt from
/// the batch headers in the log itself the first time a partition sees a producer after start-up,
/// so it is exactly as durable as the data it guards.
/// </summary>
public sealed class ProducerStateManager
{
    public const int RetainedBatches = 5;

    /// <summary>First producer id reserved for the uplink receiver's origin streams.</summary>
    public const long ReservedProducerIdFloor = 1L << 62;

    private readonly ConcurrentDictionary<PartitionLog, PartitionProducers> _partitions = new();

    private sealed class ProducerEntry
    {
        public short Epoch;
        public int LastSequence = -1;
        public readonly List<BatchRecord> Batches = new(RetainedBatches);
    }

    private sealed record BatchRecord(int FirstSequence, int LastSequence, Task<AppendResult> Result);

    private sealed class PartitionProducers
    {
        public readonly Dictionary<long, ProducerEntry> Producers = new();
    }

    /// <summary>The outcome of checking one batch: append it, answer a duplicate, or refuse it.</summary>
    public readonly record struct Decision(KafkaErrorCode Error, Task<AppendResult>? Duplicate);

    /// <summary>
    /// Checks the batch's producer fields and, when it is new, appends it — under the partition's
    /// producer lock, so check and append are one step. Non-idempotent batches (producer id -1)
    /// are appended straight away.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(PartitionLog partition, Memory<byte> batches, CancellationToken cancellationToken = default)
    {
        RecordBatchHeader.TryRead(batches.Span, out var header);
        // Producer ids from 2^62 up name uplink origin streams (shared/Uplink/Receiving): the receiver
        // rebuilds its de-duplication state from them, so a Kafka client may not write such ids.
        if (header.ProducerId >= ReservedProducerIdFloor)
            throw new ProducerFencedException(KafkaErrorCode.UnknownProducerId,
                $"producer id {header.ProducerId} is reserved (ids from 2^62 up mark uplink origin streams)");
        var single = header.TotalSize == batches.Length;
        if (header.ProducerId < 0 || !single)
            return partition.AppendAsync(batches, cancellationToken);

        var state = _partitions.GetOrAdd(partition, Rebuild);
        var firstSequence = header.BaseSequence;
        var lastSequence = Wrap(header.BaseSequence, header.LastOffsetDelta);
        lock (state)
        {
            state.Producers.TryGetValue(header.ProducerId, out var entry);
            if (entry is not null)
            {
                if (header.ProducerEpoch < entry.Epoch)
                    throw new ProducerFencedException(KafkaErrorCode.InvalidProducerEpoch,
                        $"producer {header.ProducerId} epoch {header.ProducerEpoch} is older than the current epoch {entry.Epoch}");
                if (header.ProducerEpoch == entry.Epoch)
                {
                    foreach (var b in entry.Batches)
                        if (b.FirstSequence == firstSequence && b.LastSequence == lastSequence && !b.Result.IsFaulted && !b.Result.IsCanceled)
                            return new ValueTask<AppendResult>(b.Result);
                    if (firstSequence != Wrap(entry.LastSequence, 1))
                        throw new ProducerFencedException(KafkaErrorCode.OutOfOrderSequenceNumber,
                            $"producer {header.ProducerId}: expected sequence {Wrap(entry.LastSequence, 1)}, got {firstSequence}");
                }
                else if (firstSequence != 0)
                {
                    throw new ProducerFencedException(KafkaErrorCode.OutOfOrderSequenceNumber,
                        $"producer {header.ProducerId}: a new epoch {header.ProducerEpoch} must start at sequence 0, not {firstSequence}");
                }
            }
            else if (firstSequence != 0)
            {
                throw new ProducerFencedException(KafkaErrorCode.UnknownProducerId,
                    $"producer {header.ProducerId} has no state on this partition and sequence {firstSequence} is not 0");
            }

            // Throws before anything is written (invalid batch, disk full): then the state stays as it was.
            var append = partition.AppendAsync(batches, cancellationToken).AsTask();
            if (entry is null || header.ProducerEpoch != entry.Epoch)
            {
                entry = new ProducerEntry { Epoch = header.ProducerEpoch };
                state.Producers[header.ProducerId] = entry;
            }
            var previous = entry.LastSequence;
            entry.LastSequence = lastSequence;
            if (entry.Batches.Count == RetainedBatches) entry.Batches.RemoveAt(0);
            var record = new BatchRecord(firstSequence, lastSequence, append);
            entry.Batches.Add(record);
            // A write that fails after this point was never acknowledged: let the retry through.
            _ = append.ContinueWith(t =>
            {
                lock (state)
                {
                    if (entry.Batches.Remove(record) && entry.LastSequence == lastSequence) entry.LastSequence = previous;
                }
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return new ValueTask<AppendResult>(append);
        }
    }

    /// <summary>
    /// Appends a transaction marker for <paramref name="producerId"/> under the partition's producer
    /// lock. A marker with a newer epoch (a fenced or timed-out transaction aborted by the
    /// coordinator) moves the producer to that epoch here, so a late batch of the old epoch that
    /// passed the coordinator's check just before is refused by the epoch check instead of opening
    /// a transaction nobody will ever end.
    /// </summary>
    public ValueTask<AppendResult> AppendMarkerAsync(PartitionLog partition, long producerId, short epoch, byte[] marker, CancellationToken cancellationToken = default)
    {
        var state = _partitions.GetOrAdd(partition, Rebuild);
        lock (state)
        {
            MoveToMarkerEpoch(state, producerId, epoch);
            return partition.AppendAsync(marker, cancellationToken);
        }
    }

    private static void MoveToMarkerEpoch(PartitionProducers state, long producerId, short epoch)
    {
        if (!state.Producers.TryGetValue(producerId, out var entry) || entry.Epoch < epoch)
            state.Producers[producerId] = new ProducerEntry { Epoch = epoch };
    }

    /// <summary>Forgets a partition's state (its topic was deleted).</summary>
    public void Forget(PartitionLog partition) => _partitions.TryRemove(partition, out _);

    private static PartitionProducers Rebuild(PartitionLog partition)
    {
        var state = new PartitionProducers();
        partition.ScanBatchHeaders(h =>
        {
            if (h.ProducerId < 0) return;
            // Markers carry no sequence (-1): they only move the producer to their epoch.
            if (h.IsControl)
            {
                MoveToMarkerEpoch(state, h.ProducerId, h.ProducerEpoch);
                return;
            }
            if (!state.Producers.TryGetValue(h.ProducerId, out var entry) || entry.Epoch != h.ProducerEpoch)
                state.Producers[h.ProducerId] = entry = new ProducerEntry { Epoch = h.ProducerEpoch };
            var last = Wrap(h.BaseSequence, h.LastOffsetDelta);
            if (entry.Batches.Count == RetainedBatches) entry.Batches.RemoveAt(0);
            entry.Batches.Add(new BatchRecord(h.BaseSequence, last, Task.FromResult(new AppendResult(h.BaseOffset, h.LastOffset, -1))));
            entry.LastSequence = last;
        });
        return state;
    }

    // Sequences wrap from int.MaxValue to 0 (the producer's own rule).
    private static int Wrap(int sequence, int delta) => (int)(((long)sequence + delta) % ((long)int.MaxValue + 1));
}
