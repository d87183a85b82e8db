namespace EdgeStream.Uplink.Sending;

/// <summary>
/// The target frame size, tuned from ack latency like TCP's AIMD: while acks come back within
/// <see cref="LatencyFactor"/> times the best latency seen (or under <see cref="LowLatency"/>),
/// grow by one minimum frame per ack; when an ack takes longer, halve, then leave the size alone
/// until the frames already in flight at that moment are acked (they were sized before the cut).
/// Bigger frames compress better and cost less per record; smaller ones keep a slow or congested
/// link responsive (a priority topic does not wait behind a 4 MiB frame). Not thread-safe.
/// </summary>
public sealed class AdaptiveFrameSize
{
    private readonly int _min;
    private readonly int _max;
    private readonly int _initial;
    private double _best = double.MaxValue;
    private int _holdAcks;

    public AdaptiveFrameSize(int minBytes, int maxBytes) : this(minBytes, maxBytes, minBytes)
    {
    }

    /// <summary>Starts (and restarts on <see cref="Reset"/>) at <paramref name="initialBytes"/>, clamped to min..max.</summary>
    public AdaptiveFrameSize(int minBytes, int maxBytes, int initialBytes)
    {
        _min = minBytes;
        _max = maxBytes;
        _initial = Math.Clamp(initialBytes, minBytes, maxBytes);
        Target = _initial;
    }

    /// <summary>Latencies below this never count as congestion (loopback and LAN jitter). Default 50 ms.</summary>
    public TimeSpan LowLatency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>An ack slower than this many times the best observed shrinks the frames. Default 4.</summary>
    public double LatencyFactor { get; init; } = 4;

    /// <summary>The frame size to build next, in uncompressed bytes.</summary>
    public int Target { get; private set; }

    /// <summary>The best (lowest) ack latency observed, in milliseconds; it drifts up slowly so a changed link is relearned.</summary>
    public double BestLatencyMs => _best;

    /// <summary>Feeds one ack: its latency and how many frames were still in flight behind it.</summary>
    public void OnAck(TimeSpan latency, int inFlightAfter)
    {
        var ms = latency.TotalMilliseconds;
        // Drift up by 1% per ack so an old best from a faster link does not pin the size down forever.
        _best = Math.Min(ms, _best == double.MaxValue ? ms : _best * 1.01);
        if (_holdAcks > 0)
        {
            _holdAcks--;
            return;
        }
        if (ms <= LowLatency.TotalMilliseconds || ms <= _best * LatencyFactor)
        {
            Target = (int)Math.Min(_max, (long)Target + _min);
        }
        else
        {
            Target = Math.Max(_min, Target / 2);
            _holdAcks = inFlightAfter;
        }
    }

    /// <summary>A new connection: start again from the initial size (the parent or the path may have changed).</summary>
    public void Reset()
    {
        Target = _initial;
        _best = double.MaxValue;
        _holdAcks = 0;
    }
}
