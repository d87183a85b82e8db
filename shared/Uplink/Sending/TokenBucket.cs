namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Bandwidth cap (<c>--uplink-rate</c>): tokens are bytes, refilled at the rate up to one second's
/// worth (or one maximal frame, whichever is larger, so any frame can go). A frame larger than the
/// tokens left borrows: the bucket goes negative and the caller waits until it is back at zero,
/// which keeps the long-run rate exact. Times are <see cref="System.Diagnostics.Stopwatch"/>-free
/// seconds passed in by the caller, so tests drive it without sleeping. Not thread-safe.
/// </summary>
public sealed class TokenBucket
{
    private readonly double _rate;
    private readonly double _capacity;
    private double _tokens;
    private double _last;

    /// <param name="bytesPerSecond">The cap, &gt; 0.</param>
    /// <param name="burstBytes">Most bytes sent at once after an idle period.</param>
    /// <param name="now">The current time in seconds.</param>
    public TokenBucket(long bytesPerSecond, long burstBytes, double now)
    {
        if (bytesPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(bytesPerSecond));
        _rate = bytesPerSecond;
        _capacity = Math.Max(bytesPerSecond, burstBytes);
        _tokens = _capacity;
        _last = now;
    }

    /// <summary>Takes <paramref name="bytes"/> and returns how long to wait before sending them (zero when tokens were there).</summary>
    public TimeSpan Take(long bytes, double now)
    {
        Refill(now);
        _tokens -= bytes;
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _rate);
    }

    /// <summary>Tokens available now (negative while a large frame is being paid off).</summary>
    public double Available(double now)
    {
        Refill(now);
        return _tokens;
    }

    private void Refill(double now)
    {
        if (now > _last)
        {
            _tokens = Math.Min(_capacity, _tokens + (now - _last) * _rate);
            _last = now;
        }
    }
}
