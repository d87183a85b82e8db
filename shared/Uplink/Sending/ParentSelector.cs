namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Which parent to connect to. Starts with the first (preferred); after <c>failoverAfter</c> failed
/// attempts in a row moves to the next, cycling around. While on a fallback, <see cref="ShouldProbePreferred"/>
/// says when to try the preferred parent again; a probe that fails returns to the fallback at once.
/// A parent known to be down (<see cref="OnParentDown"/>) is left at once when it is the current one;
/// no list of dead parents is kept. Times are seconds passed in by the caller. Not thread-safe.
/// </summary>
public sealed class ParentSelector : IParentSelector
{
    private readonly int _count;
    private readonly int _failoverAfter;
    private readonly double _probeInterval;
    private int _failures;
    private int _fallback = -1;
    private double _since;

    public ParentSelector(int parentCount, int failoverAfter, TimeSpan preferredRetryInterval, double now)
    {
        if (parentCount < 1) throw new ArgumentOutOfRangeException(nameof(parentCount));
        _count = parentCount;
        _failoverAfter = Math.Max(1, failoverAfter);
        _probeInterval = preferredRetryInterval.TotalSeconds;
        _since = now;
    }

    /// <summary>Index of the parent to use now.</summary>
    public int Current { get; private set; }

    /// <summary>True while trying the preferred parent from a fallback.</summary>
    public bool IsProbing => _fallback >= 0;

    /// <summary>Failed attempts in a row on <see cref="Current"/>.</summary>
    public int ConsecutiveFailures => _failures;

    /// <summary>An attempt on <see cref="Current"/> failed. Returns true when the choice changed.</summary>
    public bool OnFailure(double now)
    {
        if (_fallback < 0 && (++_failures < _failoverAfter || _count == 1)) return false;
        MoveOn(now);
        return true;
    }

    /// <summary>
    /// <paramref name="parent"/> is known to be down: when it is <see cref="Current"/>, moves on now
    /// instead of after <c>failoverAfter</c> failed attempts (a probe of the preferred parent goes
    /// back to the fallback). Any other parent: no change. Returns true when the choice changed.
    /// </summary>
    public bool OnParentDown(int parent, double now)
    {
        if (parent != Current || (_fallback < 0 && _count == 1)) return false;
        MoveOn(now);
        return true;
    }

    /// <summary>Back to the fallback after a probe of the preferred parent, else on to the next parent in order.</summary>
    private void MoveOn(double now)
    {
        Current = _fallback >= 0 ? _fallback : (Current + 1) % _count;
        _fallback = -1;
        _failures = 0;
        _since = now;
    }

    /// <summary>A connection to <see cref="Current"/> works (it answered): the failure count starts over.</summary>
    public void OnConnected(double now)
    {
        _failures = 0;
        if (_fallback >= 0)
        {
            _fallback = -1;
            _since = now;
        }
    }

    /// <summary>True when on a fallback parent for at least the probe interval.</summary>
    public bool ShouldProbePreferred(double now) => Current != 0 && _fallback < 0 && now - _since >= _probeInterval;

    /// <summary>Switches to the preferred parent, remembering the fallback in case the probe fails.</summary>
    public void BeginProbe(double now)
    {
        if (Current == 0) return;
        _fallback = Current;
        Current = 0;
        _failures = 0;
        _since = now;
    }
}
