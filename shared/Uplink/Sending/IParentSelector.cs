namespace EdgeStream.Uplink.Sending;

/// <summary>
/// The uplink sender's failover policy: which parent to connect to next. <see cref="UplinkForwarder"/>
/// asks <see cref="Current"/> before every connection attempt and reports how attempts end; what
/// else is known about the parents (a mesh's membership, say) comes in through
/// <see cref="OnParentDown"/>. A parent is an index into <see cref="UplinkSenderOptions.Parents"/>,
/// 0 being the preferred one; times are seconds on the caller's monotonic clock. Implementations
/// need not be thread-safe: the forwarder calls them under its lock.
/// </summary>
public interface IParentSelector
{
    /// <summary>Index of the parent to use now.</summary>
    int Current { get; }

    /// <summary>Failed attempts in a row on <see cref="Current"/>.</summary>
    int ConsecutiveFailures { get; }

    /// <summary>An attempt on <see cref="Current"/> failed. Returns true when the choice changed.</summary>
    bool OnFailure(double now);

    /// <summary>A connection to <see cref="Current"/> works (it answered).</summary>
    void OnConnected(double now);

    /// <summary>True when the sender should leave a working fallback and try the preferred parent again.</summary>
    bool ShouldProbePreferred(double now);

    /// <summary>Switches to the preferred parent for a probe (the sender has drained its window).</summary>
    void BeginProbe(double now);

    /// <summary>
    /// <paramref name="parent"/> is known to be down, not merely slow to answer us. Returns true
    /// when the choice changed; the sender then uses the new <see cref="Current"/> on its next attempt.
    /// </summary>
    bool OnParentDown(int parent, double now);
}
