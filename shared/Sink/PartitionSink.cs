using EdgeStream.Kafka.Client;
using EdgeStream.Records;
using EdgeStream.Storage;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Sink;

/// <summary>A record read from the local log on its way out, with the origin it is known by.</summary>
internal sealed record Outgoing(OriginStream Origin, long OriginOffset, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, long Timestamp,
    IReadOnlyList<RecordHeader> Headers, int Size);

/// <summary>
/// Forwards one local partition to the external cluster, for ever: reads the log from its cursor,
/// sends each record to target partition (origin partition mod target partitions) unless the target
/// already holds it, and moves the cursor once the target acknowledged. Every decision is taken
/// under the target partition's gate right after reading what the target gained since last time,
/// so a restart, a lost acknowledgement or another cloud node's writes are all seen before writing.
/// Failures back off (bounded wait, endless retries); the records stay in the local log meanwhile.
/// </summary>
internal sealed class PartitionSink(
    SinkOptions options, TopicLog localTopic, PartitionLog log, Guid topicId, string target, SinkStore store, TargetRegistry targets, SinkStatus status, ILogger logger)
{
    // Enough records to fill the produce window several times over: the window drains at the end of each read.
    private const int ReadBytes = 4 * 1024 * 1024;
    private const int ScanBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    private readonly PartitionSinkStatus _status = status.Partition(log.Topic, log.Partition, target);
    private readonly ExternalCluster _cluster = new(options, logger);
    // Gaps given up on (--sink-gap-wait passed): that record is written although earlier ones are missing.
    private readonly HashSet<(OriginStream, long)> _acceptedGaps = [];
    private (OriginStream Origin, long Offset, long Since)? _waiting;
    private byte[] _readBuffer = [];
    // Reused for every batch: only what Build returns is held while the produce is in flight.
    private readonly RecordBatchBuilder _builder = new();
    private long _cursor;
    private long _savedCursor = -1;
    private long _savedAt;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _cursor = Math.Max(store.Cursor(log.Topic, log.Partition, topicId) ?? log.LogStartOffset, 0);
        SinkLog.PartitionStarted(logger, log.Topic, log.Partition, target, _cursor);
        List<Outgoing>? pending = null;
        long pendingNext = 0;
        var attempt = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    UpdateLag(); // also while retrying: the lag grows as children keep sending
                    // Looked up (or created) before the first record too, so an idle partition shows
                    // whether the external cluster answers.
                    var topic = await _cluster.TopicAsync(target, localTopic.PartitionCount, cancellationToken).ConfigureAwait(false);
                    if (attempt == 0 && _waiting is null) _status.State = SinkState.Connected;
                    if (pending is null)
                    {
                        SkipDeleted();
                        (pending, pendingNext) = ReadChunk();
                        if (pending.Count == 0 && pendingNext == _cursor)
                        {
                            // Nothing to send and the external cluster answered: healthy, even right after a failure.
                            attempt = Recovered(attempt);
                            pending = null;
                            SaveCursor(force: false);
                            await WaitForDataAsync(cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                    }
                    if (pending.Count > 0) await ForwardAsync(pending, topic, cancellationToken).ConfigureAwait(false);
                    _cursor = pendingNext;
                    pending = null;
                    SaveCursor(force: false);
                    UpdateLag();
                    attempt = Recovered(attempt);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // The loop never gives up (the local log keeps the records); each wait is bounded.
                    attempt++;
                    status.Error();
                    var permanent = IsPermanent(ex);
                    // A refused password or certificate is an error to fix, not an outage to wait out; it is
                    // still retried at the usual pace, so a fixed password file or CA is picked up soon.
                    var refused = IsRefused(ex);
                    _status.State = permanent || refused ? SinkState.Error : SinkState.Retrying;
                    _status.LastError = ex.Message;
                    var delay = Backoff(attempt, permanent);
                    if (refused) SinkLog.Refused(logger, log.Topic, log.Partition, ex.Message, attempt, (long)delay.TotalMilliseconds);
                    else if (permanent) SinkLog.Failed(logger, log.Topic, log.Partition, ex.Message);
                    else SinkLog.Retrying(logger, log.Topic, log.Partition, ex.Message, attempt, (long)delay.TotalMilliseconds);
                    await _cluster.ResetAsync().ConfigureAwait(false);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            SaveCursor(force: true);
            _status.State = SinkState.Starting;
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }
    }

    private int Recovered(int attempt)
    {
        if (attempt > 0) SinkLog.Recovered(logger, log.Topic, log.Partition);
        if (_waiting is null) _status.State = SinkState.Connected;
        _status.LastError = null;
        return 0;
    }

    // ---- the local side ----

    private void SkipDeleted()
    {
        var start = log.LogStartOffset;
        if (_cursor >= start) return;
        SinkLog.Skipped(logger, log.Topic, log.Partition, _cursor, start - 1, start - _cursor);
        status.Skipped(start - _cursor);
        _cursor = start;
    }

    /// <summary>The durable records from the cursor on (about <see cref="ReadBytes"/>), and the offset after them.</summary>
    private (List<Outgoing> Records, long Next) ReadChunk()
    {
        var records = new List<Outgoing>();
        var next = _cursor;
        int length;
        try
        {
            using var read = log.Read(_cursor, ReadBytes);
            if (read.IsEmpty) return (records, next);
            // Records slice what they are decoded from: copy out of the pooled read buffer first, into this
            // worker's own, which is read into again only once every record of this chunk is delivered.
            length = read.Memory.Length;
            if (_readBuffer.Length < length) _readBuffer = new byte[length];
            read.Memory.CopyTo(_readBuffer);
        }
        catch (OffsetOutOfRangeException)
        {
            return (records, next); // deleted under us: SkipDeleted moves past it next time
        }
        // Only what is on disk goes out (matters under --fsync os): an offset lost to a power cut is
        // assigned again, to other records, and the target state would take them for the lost ones.
        var durable = log.DurableOffset;
        var position = 0;
        var bytes = _readBuffer;
        while (length - position >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(bytes.AsSpan(position, length - position), out var header)
               && header.TotalSize <= length - position && header.LastOffset < durable)
        {
            if (!header.IsControl)
            {
                foreach (var r in RecordBatchReader.ReadRecords(bytes.AsMemory(position, header.TotalSize)))
                {
                    if (r.Offset < _cursor) continue;
                    records.Add(ToOutgoing(r));
                }
            }
            next = header.LastOffset + 1;
            position += header.TotalSize;
        }
        return (records, next);
    }

    private Outgoing ToOutgoing(in Record r)
    {
        var size = (r.Key?.Length ?? 0) + (r.Value?.Length ?? 0) + 24;
        foreach (var h in r.Headers) size += h.Key.Length + (h.Value?.Length ?? 0) + 2;
        // Relayed records carry their origin (the uplink receiver wrote it); records produced into this
        // node are their own origin, and get the same four headers so the target can tell them apart.
        if (OriginStream.TryRead(r.Headers, out var origin, out var offset))
            return new Outgoing(origin, offset, r.Key, r.Value, r.Timestamp, r.Headers, size);
        var own = new OriginStream(options.NodeId, log.Topic, log.Partition);
        return new Outgoing(own, r.Offset, r.Key, r.Value, r.Timestamp, own.AppendTo(r.Headers, r.Offset), size + 96);
    }

    private async Task WaitForDataAsync(CancellationToken cancellationToken)
    {
        var more = log.WhenDurableAbove(_cursor);
        if (!more.IsCompleted) await Task.WhenAny(more, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void UpdateLag()
    {
        Volatile.Write(ref _status.Cursor, _cursor);
        Volatile.Write(ref _status.Lag, Math.Max(0, log.HighWatermark - _cursor));
    }

    private void SaveCursor(bool force)
    {
        if (_cursor == _savedCursor) return;
        var now = Environment.TickCount64;
        if (!force && now - _savedAt < 200) return;
        try
        {
            store.SaveCursor(log.Topic, log.Partition, topicId, _cursor);
            _savedCursor = _cursor;
            _savedAt = now;
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException or ObjectDisposedException)
        {
            // A cursor that is behind only costs a re-read that the target state skips.
            SinkLog.Failed(logger, log.Topic, log.Partition, "saving the cursor failed: " + ex.Message);
        }
    }

    // ---- the external side ----

    private async Task ForwardAsync(List<Outgoing> pending, TopicDescription topic, CancellationToken cancellationToken)
    {
        // Records of one origin partition always go to the same target partition, whichever cloud node
        // sends them: that is what lets each node find an origin's records in one place.
        var byPartition = new SortedDictionary<int, List<Outgoing>>();
        foreach (var r in pending)
        {
            var tp = r.Origin.Partition % topic.PartitionCount;
            if (!byPartition.TryGetValue(tp, out var list)) byPartition[tp] = list = [];
            list.Add(r);
        }
        foreach (var (tp, list) in byPartition)
        {
            await ForwardToPartitionAsync(topic, tp, list, cancellationToken).ConfigureAwait(false);
            // Delivered: after a failure further on, the retry starts with what is left.
            pending.RemoveAll(r => r.Origin.Partition % topic.PartitionCount == tp);
        }
    }

    private async Task ForwardToPartitionAsync(TopicDescription topic, int tp, List<Outgoing> list, CancellationToken cancellationToken)
    {
        var state = targets.Get(topic.Name, tp);
        while (list.Count > 0)
        {
            Hold? hold = null;
            await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            ProduceWindow? window = null;
            try
            {
                var client = await _cluster.ClientAsync(cancellationToken).ConfigureAwait(false);
                await CatchUpAsync(client, topic, state, cancellationToken).ConfigureAwait(false);
                var (leader, producer) = await _cluster.ProducerAsync(topic, tp, cancellationToken).ConfigureAwait(false);
                window = new ProduceWindow(leader, topic, tp, state, producer, _builder, status, (int)options.RequestTimeout.TotalMilliseconds);
                // One catch-up read, then every batch the list holds goes out with up to the window in flight;
                // the highest origin offset decided so far per stream stands in for what is still unacknowledged.
                var lastInWindow = new Dictionary<OriginStream, long>();
                var consumed = 0;
                while (consumed < list.Count && hold is null)
                {
                    var (batch, next, skipped, stop) = Decide(state, list, consumed, lastInWindow);
                    if (skipped > 0) status.DuplicateSkipped(skipped);
                    if (batch.Count > 0) await window.SendAsync(batch, cancellationToken).ConfigureAwait(false);
                    else if (next == consumed && stop is null) break; // nothing decided: cannot happen, but never spin
                    consumed = next;
                    hold = stop;
                }
                await window.DrainAsync(cancellationToken).ConfigureAwait(false);
                list.RemoveRange(0, consumed);
            }
            catch
            {
                window?.Abandon();
                throw;
            }
            finally
            {
                state.Gate.Release();
            }
            if (hold is { } h) await HoldAsync(topic.Name, tp, h, cancellationToken).ConfigureAwait(false);
            else if (_waiting is not null)
            {
                _waiting = null;
                _status.State = SinkState.Connected;
            }
        }
    }

    /// <summary>Why the next record is not written yet: the target lacks its origin's earlier records, or another node is writing that origin.</summary>
    private readonly record struct Hold(OriginStream Origin, long Offset, long Expected, bool Settling);

    /// <summary>
    /// Which records of <paramref name="list"/> from <paramref name="start"/> on go out in the next batch:
    /// those the target lacks, in order, up to the batch size, stopping at a record whose origin has a gap
    /// before it at the target (its earlier records may still come from another cloud node) or whose origin
    /// another node wrote within the settle time (it may still be writing the records this node holds too).
    /// <paramref name="lastInWindow"/> holds the highest origin offset per stream in the batches decided
    /// before, still in flight; it is updated with this batch. Returns the index after the last record looked at.
    /// </summary>
    private (List<Outgoing> Batch, int Next, long Skipped, Hold? Stop) Decide(TargetPartitionState state, List<Outgoing> list, int start,
        Dictionary<OriginStream, long> lastInWindow)
    {
        var batch = new List<Outgoing>();
        var now = Environment.TickCount64;
        var size = 0;
        long skipped = 0;
        var i = start;
        for (; i < list.Count; i++)
        {
            var r = list[i];
            if (state.Contains(r.Origin, r.OriginOffset))
            {
                skipped++;
                continue;
            }
            var first = !lastInWindow.TryGetValue(r.Origin, out var last);
            if (first) last = state.Last(r.Origin);
            var accepted = _acceptedGaps.Contains((r.Origin, r.OriginOffset));
            // Origin offsets of a stream are contiguous at its origin; an unknown stream starts at 0.
            if (r.OriginOffset > last + 1 && !accepted)
                return (batch, i, skipped, new Hold(r.Origin, r.OriginOffset, last + 1, Settling: false));
            if (first && !accepted && state.SinceForeignWrite(r.Origin, now) is { } since && since < options.Settle.TotalMilliseconds)
                return (batch, i, skipped, new Hold(r.Origin, r.OriginOffset, last + 1, Settling: true));
            if (batch.Count > 0 && size + r.Size > options.MaxBatchBytes) break;
            batch.Add(r);
            size += r.Size;
            lastInWindow[r.Origin] = Math.Max(last, r.OriginOffset);
        }
        return (batch, i, skipped, null);
    }

    private async Task HoldAsync(string topic, int tp, Hold hold, CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        if (_waiting is not { } w || w.Origin != hold.Origin || w.Offset != hold.Offset)
        {
            _waiting = (hold.Origin, hold.Offset, now);
            if (!hold.Settling) SinkLog.GapWaiting(logger, topic, tp, hold.Origin.ToString(), hold.Expected, hold.Offset - 1);
        }
        else if (now - w.Since >= options.GapWait.TotalMilliseconds)
        {
            // Nobody delivered the missing records in time (the node holding them may be gone for good):
            // write on, out of order for that origin if they turn up later; never lose or repeat.
            _acceptedGaps.Add((hold.Origin, hold.Offset));
            if (!hold.Settling)
            {
                SinkLog.GapAccepted(logger, topic, tp, hold.Origin.ToString(), hold.Expected, hold.Offset - 1, (long)options.GapWait.TotalSeconds);
                status.GapAccepted();
            }
            _waiting = null;
            return;
        }
        _status.State = SinkState.WaitingForGap;
        await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads what the target partition gained since <see cref="TargetPartitionState.ScannedTo"/> into the state.</summary>
    private async Task CatchUpAsync(KafkaClient client, TopicDescription topic, TargetPartitionState state, CancellationToken cancellationToken)
    {
        var offsets = new Dictionary<int, long>(1);
        for (var rounds = 0; rounds < 10_000; rounds++)
        {
            offsets[state.Partition] = state.ScannedTo;
            var fetched = await client.FetchAsync(topic, offsets, TimeSpan.Zero, ScanBytes, cancellationToken).ConfigureAwait(false);
            if (fetched.Count == 0) throw new SinkException($"'{topic.Name}' partition {state.Partition}: the external cluster answered a fetch without the partition");
            var p = fetched[0];
            if (p.ErrorCode == KafkaErrors.OffsetOutOfRange)
            {
                var earliest = (await client.ListOffsetsAsync(topic, [state.Partition], OffsetSpec.Earliest, cancellationToken).ConfigureAwait(false))[state.Partition];
                var latest = (await client.ListOffsetsAsync(topic, [state.Partition], OffsetSpec.Latest, cancellationToken).ConfigureAwait(false))[state.Partition];
                if (state.ScannedTo > latest)
                {
                    // The target lost records it had acknowledged (or was re-created): what this node knew is void.
                    SinkLog.TargetReset(logger, topic.Name, state.Partition, state.ScannedTo, latest, earliest);
                    state.Reset(earliest);
                }
                else state.SkipTo(earliest); // retention at the target deleted what was below
                continue;
            }
            if (p.ErrorCode != 0) throw KafkaClientException.FromBroker(p.ErrorCode, $"a fetch of '{topic.Name}' partition {state.Partition}");
            var progressed = p.NextOffset > state.ScannedTo;
            if (progressed || p.Records.Count > 0)
            {
                var (duplicates, first) = state.ApplyScanned(p.Records, p.NextOffset, Environment.TickCount64);
                if (duplicates > 0)
                {
                    // Not prevented, but never hidden: two nodes wrote the same origin records at once.
                    SinkLog.DuplicatesFound(logger, topic.Name, state.Partition, duplicates, first);
                    status.DuplicateFound(duplicates);
                }
            }
            if (!progressed || state.ScannedTo >= p.HighWatermark) return;
        }
    }

    // Refusals a retry cannot fix soon (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_TOPIC,
    // TOPIC_AUTHORIZATION_FAILED, POLICY_VIOLATION, INVALID_RECORD) and records that do not decode.
    // Anything else (down, unreachable, timed out, a retriable error) is worth the next attempt soon.
    private static bool IsPermanent(Exception ex) => ex switch
    {
        KafkaClientException k => k.ErrorCode is 10 or 17 or 18 or 29 or 44 or 87,
        RecordsException => true,
        _ => false,
    };

    /// <summary>
    /// The external cluster refused the sink's SASL credentials, or its certificate failed the TLS checks
    /// (possibly wrapped: a connection to an advertised broker adds which broker it was).
    /// </summary>
    private static bool IsRefused(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is KafkaClientException k && KafkaErrors.IsAuthenticationError(k.ErrorCode)) return true;
            if (e is System.Security.Authentication.AuthenticationException) return true;
        }
        return false;
    }

    private TimeSpan Backoff(int attempt, bool permanent)
    {
        if (permanent) return TimeSpan.FromSeconds(Math.Max(30, options.MaxBackoff.TotalSeconds));
        var ms = Math.Min(options.MaxBackoff.TotalMilliseconds, 200 * Math.Pow(2, Math.Min(attempt - 1, 16)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + Random.Shared.NextDouble() * 0.4));
    }
}
