namespace EdgeStream.Mesh.Membership.Simulation;

/// <summary>
/// Virtual time for simulations: a <see cref="TimeProvider"/> whose timers and scheduled actions
/// run on the caller's thread, in due-time order (ties in scheduling order), only while
/// <see cref="RunFor"/> or <see cref="RunUntil"/> advances the clock. Nothing else moves time, so
/// a run is deterministic under its seeds and as fast as the events can be processed.
/// <para>Events may belong to a <see cref="SimulatedHost"/>: a paused host's events wait for its
/// resumption (as a stopped process's timers and socket buffers do), a killed host's are dropped.</para>
/// </summary>
public sealed class SimulatedClock : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly PriorityQueue<Event, (long Due, long Sequence)> _queue = new();
    private readonly object _gate = new();
    private long _now;
    private long _sequence;
    private volatile int _runningThread;

    /// <summary>Virtual time since the clock was created.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Volatile.Read(ref _now));

    /// <summary>Events processed so far (a measure of simulation work).</summary>
    public long EventsProcessed { get; private set; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _now);

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Volatile.Read(ref _now));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        CreateTimer(null, callback, state, dueTime, period);

    internal ITimer CreateTimer(SimulatedHost? owner, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SimulatedTimer(this, owner, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delay"/> of virtual time (on behalf of <paramref name="owner"/>, if any).</summary>
    public void Schedule(TimeSpan delay, Action action, SimulatedHost? owner = null) =>
        Enqueue(_now + Math.Max(0, delay.Ticks), new Event(action, null, 0, owner));

    /// <summary>Advances virtual time by <paramref name="duration"/>, running everything due on the way.</summary>
    public void RunFor(TimeSpan duration) => RunUntil(static () => false, duration);

    /// <summary>
    /// Advances virtual time until <paramref name="condition"/> holds (checked every
    /// <paramref name="checkEvery"/>, default 10 ms of virtual time) or <paramref name="limit"/> has passed.
    /// </summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit, TimeSpan? checkEvery = null)
    {
        var end = _now + limit.Ticks;
        var step = (checkEvery ?? TimeSpan.FromMilliseconds(10)).Ticks;
        // Without a synchronization context, a task completed by an event runs its awaiting
        // continuation inline, on this thread, in event order. Under a test framework's context
        // it would be posted to another thread and the run would no longer replay under its seed.
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        _runningThread = Environment.CurrentManagedThreadId;
        try
        {
            while (true)
            {
                if (condition()) return true;
                if (_now >= end) return false;
                var until = Math.Min(end, _now + step);
                while (TryDequeue(until, out var due, out var e))
                {
                    Volatile.Write(ref _now, due);
                    Dispatch(e);
                }
                Volatile.Write(ref _now, until);
            }
        }
        finally
        {
            _runningThread = 0;
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }

    private bool TryDequeue(long until, out long due, out Event e)
    {
        lock (_gate)
        {
            if (_queue.TryPeek(out e, out var key) && key.Due <= until)
            {
                _queue.Dequeue();
                due = key.Due;
                return true;
            }
        }
        due = 0;
        e = default;
        return false;
    }

    private void Dispatch(in Event e)
    {
        if (e.Owner is { } host)
        {
            if (host.IsKilled) return;
            if (host.PausedUntil > _now)
            {
                // Re-queued in the order they come due, so the host sees them in their original order on resumption.
                Enqueue(host.PausedUntil, e);
                return;
            }
        }
        EventsProcessed++;
        if (e.Timer is { } timer) timer.Fire(e.Generation);
        else e.Action!();
    }

    private void Enqueue(long due, Event e)
    {
        var running = _runningThread;
        if (running != 0 && running != Environment.CurrentManagedThreadId)
            throw new InvalidOperationException("the simulated clock was used from another thread while running: a continuation escaped the simulation");
        lock (_gate) _queue.Enqueue(e, (due, ++_sequence));
    }

    private readonly record struct Event(Action? Action, SimulatedTimer? Timer, long Generation, SimulatedHost? Owner);

    /// <summary>A timer on virtual time. Change and Dispose invalidate what was queued by bumping the generation.</summary>
    private sealed class SimulatedTimer(SimulatedClock clock, SimulatedHost? owner, TimerCallback callback, object? state) : ITimer
    {
        private long _generation;
        private long _period = -1;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed) return false;
            var generation = ++_generation;
            _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? -1 : period.Ticks;
            if (dueTime != Timeout.InfiniteTimeSpan)
                clock.Enqueue(clock._now + Math.Max(0, dueTime.Ticks), new Event(null, this, generation, owner));
            return true;
        }

        public void Fire(long generation)
        {
            if (_disposed || generation != _generation) return;
            if (_period > 0) clock.Enqueue(clock._now + _period, new Event(null, this, generation, owner));
            callback(state);
        }

        public void Dispose()
        {
            _disposed = true;
            _generation++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
