namespace EdgeStream.Mesh.Membership;

/// <summary>
/// One suspicion of one member (Lifeguard's local-health-aware suspicion). The timeout starts at
/// the maximum and shrinks logarithmically with each independent confirmation (another member
/// whose own probe failed), down to the minimum after <c>k</c> of them:
/// timeout(c) = max(min, max − (max − min) · ln(c + 1) / ln(k + 1)).
/// A single slow link therefore cannot kill a member quickly, while many witnesses can.
/// </summary>
internal sealed class Suspicion
{
    private readonly HashSet<string> _witnesses = new(StringComparer.Ordinal);
    private readonly int _expected;
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;

    public Suspicion(string from, int expectedConfirmations, TimeSpan min, TimeSpan max, long startTimestamp)
    {
        _witnesses.Add(from);
        _expected = expectedConfirmations;
        _min = min;
        _max = max;
        StartTimestamp = startTimestamp;
    }

    public long StartTimestamp { get; }

    public ITimer? Timer { get; set; }

    /// <summary>Confirmations beyond the first witness.</summary>
    public int Confirmations => _witnesses.Count - 1;

    /// <summary>True when <paramref name="from"/> is a new witness (the timeout shrank).</summary>
    public bool Confirm(string from) => Confirmations < _expected && _witnesses.Add(from);

    public TimeSpan Timeout
    {
        get
        {
            if (_expected < 1 || Confirmations >= _expected) return _min;
            var fraction = Math.Log(Confirmations + 1) / Math.Log(_expected + 1);
            var timeout = _max - (_max - _min) * fraction;
            return timeout < _min ? _min : timeout;
        }
    }
}
