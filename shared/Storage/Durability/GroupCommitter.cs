namespace EdgeStream.Storage.Durability;

/// <summary>
/// Group commit for one partition. Appenders write under the partition lock and ask for their end
/// offset to be made durable (<see cref="Request"/>); one commit loop at a time runs fsyncs, each
/// covering every byte written before it started, until nothing asked for is left. So N concurrent
/// appends cost about one fsync, and the appender does not have to wait itself: it may check
/// <see cref="Check"/> later (an MQTT connection, once per batch of acknowledgements) or wait
/// (<see cref="WaitDurableAsync"/>: the waiters of one fsync are woken together). With a minimum
/// interval, the loop first waits until that long after the previous fsync began: at most one fsync
/// per interval under load (bigger groups), and no added latency for an append after a quiet spell.
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
    // The highest end offset anyone asked to be made durable, and whether the commit loop runs.
    private long _requested;
    private bool _running;
    // Completed when the fsync after the one under way ends (successful or not): waiters then look again.
    private TaskCompletionSource? _round;
    // Offsets a failed fsync covered: never acknowledged, even when a later fsync succeeds (after a
    // failed fsync the kernel may have dropped those dirty pages, so a later success proves nothing).
    private Failure? _failure;

    /// <summary>Offsets (From, To] that a failed fsync covered; several failures merge into one range (refusing more is safe).</summary>
    private sealed record Failure(long From, long To, StorageException Error)
    {
        public bool Covers(long endOffset) => endOffset > From && endOffset <= To;
    }

    /// <param name="capture">Takes, under the partition lock, what the next fsync will cover.</param>
    /// <param name="flush">Makes that target durable (blocking fsync).</param>
    /// <param name="onDurable">Publishes the new durable point (advances the high watermark).</param>
    public GroupCommitter(long durableOffset, TimeSpan minInterval, Func<FlushTarget> capture, Action<FlushTarget> flush, Action<FlushTarget> onDurable)
    {
        _durableOffset = _requested = durableOffset;
        _intervalTicks = (long)(minInterval.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        _capture = capture;
        _flush = flush;
        _onDurable = onDurable;
    }

    public long DurableOffset => Volatile.Read(ref _durableOffset);

    /// <summary>Where the append ending at <paramref name="endOffset"/> stands; lock-free.</summary>
    public AppendDurability Check(long endOffset)
    {
        // The offset first: a failure is recorded before any later success can move it past the failed range.
        var durable = Volatile.Read(ref _durableOffset) >= endOffset;
        if (Volatile.Read(ref _failure) is { } failure && failure.Covers(endOffset)) return AppendDurability.Failed;
        return durable ? AppendDurability.Durable : AppendDurability.Pending;
    }

    /// <summary>Asks for everything up to <paramref name="endOffset"/> to be made durable; starts the commit loop if it is idle.</summary>
    public void Request(long endOffset)
    {
        lock (_sync)
        {
            if (endOffset <= _durableOffset) return;
            if (endOffset > _requested) _requested = endOffset;
            if (_running) return;
            _running = true;
        }
        _ = RunAsync();
    }

    /// <summary>
    /// Completes once everything up to <paramref name="endOffset"/> is durable (synchronously if it is
    /// already); throws <see cref="StorageException"/> when the fsync that covered it failed.
    /// </summary>
    public ValueTask WaitDurableAsync(long endOffset, CancellationToken cancellationToken)
    {
        return Check(endOffset) switch
        {
            AppendDurability.Durable => ValueTask.CompletedTask,
            AppendDurability.Failed => ValueTask.FromException(Refusal(endOffset)),
            _ => WaitSlowAsync(endOffset, cancellationToken),
        };
    }

    private async ValueTask WaitSlowAsync(long endOffset, CancellationToken cancellationToken)
    {
        // Each turn waits for one fsync to end; the append is written, so the fsync after the one
        // under way covers it: at most two turns, or a third after a failure that did not cover it.
        while (true)
        {
            Task wait;
            var start = false;
            lock (_sync)
            {
                switch (Check(endOffset))
                {
                    case AppendDurability.Durable: return;
                    case AppendDurability.Failed: throw Refusal(endOffset);
                }
                if (endOffset > _requested) _requested = endOffset;
                _round ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _round.Task;
                if (!_running) _running = start = true;
            }
            if (start) _ = RunAsync();
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private StorageException Refusal(long endOffset)
    {
        var error = Volatile.Read(ref _failure)!.Error;
        return new StorageException($"offset {endOffset - 1} is not durable: {error.Message}", error);
    }

    /// <summary>The commit loop: fsyncs while anything asked for is not durable; stops after a failure (the next request restarts it).</summary>
    private async Task RunAsync()
    {
        while (true)
        {
            lock (_sync)
            {
                if (_requested <= _durableOffset)
                {
                    _running = false;
                    // Waiters that came in while the last fsync ran and that it covered.
                    var idle = _round;
                    _round = null;
                    idle?.SetResult();
                    return;
                }
            }
            TaskCompletionSource? round = null;
            FlushTarget target = default;
            var captured = false;
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
                // Not under _sync: the capture takes the partition lock, under which MarkDurable takes _sync.
                target = _capture();
                captured = true;
                // Whoever waits from here on waits for the next fsync (this one may not cover them;
                // one that it does cover is woken when the loop finds nothing left to do).
                lock (_sync)
                {
                    round = _round;
                    _round = null;
                }
                // fsync blocks its thread for milliseconds: keep it off the caller's continuation.
                await Task.Run(() => _flush(target)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Fail(ex, captured ? target.EndOffset : null);
                round?.SetResult();
                return;
            }
            lock (_sync)
            {
                if (target.EndOffset > _durableOffset) Volatile.Write(ref _durableOffset, target.EndOffset);
            }
            try
            {
                _onDurable(target);
            }
            catch
            {
                // Nobody awaits this loop: never leave it marked running (every later wait would hang).
                // What it fsynced is durable; the next fsync publishes the high watermark.
                TaskCompletionSource? next;
                lock (_sync)
                {
                    _running = false;
                    next = _round;
                    _round = null;
                }
                round?.SetResult();
                next?.SetResult();
                throw;
            }
            round?.SetResult();
        }
    }

    // Nobody covered by the failed fsync may be acknowledged: the range is recorded before the waiters wake.
    private void Fail(Exception ex, long? coveredEnd)
    {
        var error = ex as StorageException ?? new StorageException($"fsync failed: {ex.Message}", ex);
        TaskCompletionSource? round;
        lock (_sync)
        {
            // Without a target (the capture failed) everything asked for so far is covered.
            var to = coveredEnd ?? _requested;
            var from = _failure is { } earlier ? Math.Min(earlier.From, _durableOffset) : _durableOffset;
            if (_failure is { } previous) to = Math.Max(to, previous.To);
            Volatile.Write(ref _failure, new Failure(from, to, error));
            _running = false;
            round = _round;
            _round = null;
        }
        round?.SetResult();
    }

    /// <summary>Marks everything up to <paramref name="endOffset"/> durable without an fsync (after a full flush, or with the OS policy).</summary>
    public void MarkDurable(long endOffset)
    {
        lock (_sync)
        {
            if (endOffset > _durableOffset) Volatile.Write(ref _durableOffset, endOffset);
        }
    }
}

/// <summary>What one fsync covers: the active segment and the end (offset, position) written to it.</summary>
internal readonly record struct FlushTarget(Segments.LogSegment Segment, long EndOffset, long EndPosition);
