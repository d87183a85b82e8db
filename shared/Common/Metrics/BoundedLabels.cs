using System.Collections.Concurrent;

namespace EdgeStream.Common.Metrics;

/// <summary>
/// A label whose values come from clients (topic names, consumer group ids), bounded: the first
/// <see cref="Max"/> values seen keep their own value, every later one becomes <see cref="Other"/>.
/// Without the bound, a client inventing names would invent Prometheus series with them.
/// </summary>
public sealed class BoundedLabels(int max)
{
    public const string Other = "_other";

    private readonly ConcurrentDictionary<string, string> _labels = new(StringComparer.Ordinal);
    private int _max = Math.Max(0, max);

    public int Max
    {
        get => Volatile.Read(ref _max);
        set => Volatile.Write(ref _max, Math.Max(0, value));
    }

    /// <summary>The label value for <paramref name="value"/>: itself while under the cap, else <see cref="Other"/>.</summary>
    public string For(string value)
    {
        if (_labels.TryGetValue(value, out var label)) return label;
        // Racing first uses may admit a few over the cap: harmless, the bound is what matters.
        label = _labels.Count < Max ? value : Other;
        return _labels.GetOrAdd(value, label);
    }
}
