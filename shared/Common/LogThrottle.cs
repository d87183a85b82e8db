namespace EdgeStream;

/// <summary>
/// At most one log line per interval; counts the ones it held back, so a flood (refused clients,
/// failed logins) costs one line a second and the line says how many were not written.
/// </summary>
public sealed class LogThrottle(TimeSpan interval)
{
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private long _next;
    private long _suppressed;

    public bool TryEnter(out long suppressed)
    {
        var now = Environment.TickCount64;
        var next = Volatile.Read(ref _next);
        if (now < next || Interlocked.CompareExchange(ref _next, now + _intervalMs, next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }
        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }
}
