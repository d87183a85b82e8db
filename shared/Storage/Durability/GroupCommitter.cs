namespace EdgeStream.Storage.Durability;

/// <summary>
/// Group commit for one partition. Appenders write under the partition lock, then wait here until
/// their end offset is durable. The first waiter with no fsync under way becomes the leader: it
/// runs one fsync that covers every byte written before it started, and wakes everyone it
/// covered; waiters that wrote after it started wait for the next leader. So N concurrent appends
/// cost about one fsync. With a minimum interval, a leader first waits until that long after the
/// previous fsync began: at most one fsync per interval under load (bigger groups), and no added
/// latency for an append that arrives after a quiet spell.
/// </summary>
internal sealed class GroupCommitter
{
    private readonly object _sync = new();
    private readonly long _intervalTicks;
    private long _lastFlushStart;
    private readonly Func<FlushTarget> _capture;
    private readonly Action<FlushTarget> _flush;
    private readonly Action<FlushTarget> _onDurable;
    private long _durableOffset;
    private TaskCompletionSource? _inFlight;

    /// <param name="capture">Takes, under the partition lock, what the next fsync will cover.</param>
    /// <param name="flush">Makes that target durable (blocking fsync).</param>
    /// <param name="onDurable">Publishes the new durable point (advances the high watermark).</param>
    public GroupCommitter(long durableOffset, TimeSpan minInterval, Func<FlushTarget> capture, Action<FlushTarget> flush, Action<FlushTarget> onDurable)
    {
        _durableOffset = durableOffset;
        _intervalTicks = (long)(minInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        _capture = capture;
        _flush = flush;
        _onDurable = onDurable;
    }

    public long DurableOffset => Volatile.Read(ref _durableOffset);

    public async ValueTask WaitDurableAsync(long endOffset, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            var leader = false;
            lock (_sync)
            {
                if (_durableOffset >= endOffset) return;
                if (_inFlight is null)
                {
                    _inFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    leader = true;
                }
                wait = _inFlight.Task;
            }
            if (leader)
                await LeadAsync().ConfigureAwait(false);
            else
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task LeadAsync()
    {
        TaskCompletionSource done;
        try
        {
            if (_intervalTicks > 0)
            {
                var wait = TimeSpan.FromSeconds((double)(_lastFlushStart + _intervalTicks - System.Diagnostics.Stopwatch.GetTimestamp()) / System.Diagnostics.Stopwatch.Frequency);
                // Timers fire no finer than about a millisecond: a shorter wait would cost a whole
                // tick of idle disk, so it is skipped.
                if (wait >= TimeSpan.FromMilliseconds(1))
                    await Task.Delay(wait).ConfigureAwait(false);
                _lastFlushStart = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            var target = _capture();
            // fsync blocks its thread for milliseconds: keep it off the caller's continuation.
            await Task.Run(() => _flush(target)).ConfigureAwait(false);
            lock (_sync)
            {
                if (target.EndOffset > _durableOffset) _durableOffset = target.EndOffset;
                done = _inFlight!;
                _inFlight = null;
            }
            _onDurable(target);
            done.SetResult();
        }
        catch (Exception ex)
        {
            lock (_sync)
            {
                done = _inFlight!;
                _inFlight = null;
            }
            // Nobody covered by this fsync may be acknowledged: fail them all, the leader included.
            var failure = ex as StorageException ?? new StorageException($"fsync failed: {ex.Message}", ex);
            done.SetException(failure);
            throw failure;
        }
    }

    /// <summary>Marks everything up to <paramref name="endOffset"/> durable without an fsync (after a full flush, or with the OS policy).</summary>
    public void MarkDurable(long endOffset)
    {
        lock (_sync)
        {
            if (endOffset > _durableOffset) _durableOffset = endOffset;
        }
    }
}

/// <summary>What one fsync covers: the active segment and the end (offset, position) written to it.</summary>
internal readonly record struct FlushTarget(Segments.LogSegment Segment, long EndOffset, long EndPosition);
