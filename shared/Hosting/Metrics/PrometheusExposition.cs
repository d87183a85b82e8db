using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace EdgeStream.Hosting.Metrics;

/// <summary>
/// Collects the exported meters with a <see cref="MeterListener"/> and writes them in the Prometheus text
/// exposition format (version 0.0.4). Replaces OpenTelemetry's Prometheus exporter, which with the SDK it
/// pulls in was a megabyte of the NativeAOT binary (issue 19, docs/BENCHMARKS.md "footprint") for what is
/// here a few hundred lines. Names follow the same rules as that exporter, so dashboards and alerts keep
/// working: dots become underscores, the unit is appended as a word unless the name holds it already
/// (<c>By</c> → <c>_bytes</c>, <c>s</c> → <c>_seconds</c>, <c>{record}</c> → nothing), counters end in
/// <c>_total</c>; histograms keep the bucket boundaries their instrument advises.
/// </summary>
public sealed class PrometheusExposition : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // OpenTelemetry's default boundaries, for a histogram that advises none (so such a series keeps its buckets).
    private static readonly double[] DefaultBoundaries = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    // A bound per instrument as OpenTelemetry had (TopicLabels and BoundedLabels keep ours far below): label
    // sets past it add to one series labelled otel_metric_overflow="true" instead of growing without end.
    private const int MaxSeriesPerInstrument = 2000;

    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _meters;
    private readonly IReadOnlyDictionary<string, string> _renames;
    private readonly object _scope;
    private readonly Lock _scrapeLock = new();
    private readonly List<InstrumentState> _instruments = [];

    /// <param name="meters">Names of the meters to export.</param>
    /// <param name="renames">Instrument name → the name to export it under.</param>
    /// <param name="gauges">Instruments exported as gauges though declared as counters.</param>
    /// <param name="scope">The host's <see cref="IMeterFactory"/>: a meter it did not create (another host's
    /// in the same process) is left out; meters created with <c>new Meter</c> (no scope) are process-wide.</param>
    public PrometheusExposition(IEnumerable<string> meters, IReadOnlyDictionary<string, string> renames, object scope,
        IReadOnlySet<string>? gauges = null)
    {
        _meters = new HashSet<string>(meters, StringComparer.Ordinal);
        _renames = renames;
        _scope = scope;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!_meters.Contains(instrument.Meter.Name)) return;
            if (instrument.Meter.Scope is { } s && !ReferenceEquals(s, _scope)) return;
            var state = InstrumentState.TryCreate(instrument, _renames.GetValueOrDefault(instrument.Name, instrument.Name),
                gauges?.Contains(instrument.Name) == true);
            if (state is null) return;
            lock (_instruments) _instruments.Add(state);
            listener.EnableMeasurementEvents(instrument, state);
        };
        _listener.MeasurementsCompleted = (_, state) =>
        {
            lock (_instruments) _instruments.Remove((InstrumentState)state!);
        };
        _listener.SetMeasurementEventCallback<byte>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<short>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<long>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<float>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<double>(static (i, v, tags, s) => ((InstrumentState)s!).Record(v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, tags, s) => ((InstrumentState)s!).Record((double)v, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and writes every series as they are now.</summary>
    public string Scrape()
    {
        lock (_scrapeLock)
        {
            InstrumentState[] instruments;
            lock (_instruments) instruments = [.. _instruments];
            // An observable's series are what its callback reports now: a partition deleted since is gone.
            foreach (var instrument in instruments)
                if (instrument.Observable) instrument.Clear();
            _listener.RecordObservableInstruments();
            var text = new StringBuilder(16 * 1024);
            foreach (var instrument in instruments) instrument.Write(text);
            return text.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The Prometheus name OpenTelemetry's exporter gives an instrument.</summary>
    public static string MetricName(string instrumentName, string? unit, bool counter)
    {
        var name = Sanitize(instrumentName);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.Contains(suffix, StringComparison.Ordinal)) name += "_" + suffix;
        if (counter && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
        return name;
    }

    /// <summary>Invalid characters become <c>_</c>, runs of <c>_</c> one; a leading digit gets a <c>_</c> before it.</summary>
    internal static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or ':' or '_';
            var next = ok ? c : '_';
            if (next == '_' && sb.Length > 0 && sb[^1] == '_') continue;
            sb.Append(next);
        }
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0])) sb.Insert(0, '_');
        return sb.ToString();
    }

    // UCUM units as the OpenTelemetry specification maps them: {annotations} dropped, "a/b" → "a_per_b".
    private static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit)) return "";
        var sb = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{') depth++;
            else if (c == '}') depth = Math.Max(0, depth - 1);
            else if (depth == 0) sb.Append(c);
        }
        var bare = sb.ToString().Trim();
        if (bare.Length == 0) return "";
        var slash = bare.IndexOf('/');
        if (slash > 0 && slash < bare.Length - 1)
        {
            var per = PerUnit(bare[(slash + 1)..]);
            var of = MapUnit(bare[..slash]);
            return Sanitize(of.Length == 0 ? "per_" + per : of + "_per_" + per).Trim('_');
        }
        return Sanitize(MapUnit(bare)).Trim('_');
    }

    private static string MapUnit(string unit) => unit switch
    {
        "d" => "days", "h" => "hours", "min" => "minutes", "s" => "seconds", "ms" => "milliseconds",
        "us" => "microseconds", "ns" => "nanoseconds",
        "By" => "bytes", "KiBy" => "kibibytes", "MiBy" => "mebibytes", "GiBy" => "gibibytes", "TiBy" => "tibibytes",
        "KBy" => "kilobytes", "MBy" => "megabytes", "GBy" => "gigabytes", "TBy" => "terabytes",
        "B" => "bytes", "KB" => "kilobytes", "MB" => "megabytes", "GB" => "gigabytes", "TB" => "terabytes",
        "m" => "meters", "V" => "volts", "A" => "amperes", "J" => "joules", "W" => "watts", "g" => "grams",
        "Cel" => "celsius", "Hz" => "hertz", "%" => "percent", "1" => "",
        _ => unit,
    };

    private static string PerUnit(string unit) => unit switch
    {
        "s" => "second", "m" => "minute", "h" => "hour", "d" => "day", "w" => "week", "mo" => "month", "y" => "year",
        _ => unit,
    };

    private enum Kind { Counter, Gauge, Histogram }

    /// <summary>One instrument's series, by label set.</summary>
    private sealed class InstrumentState
    {
        private readonly Kind _kind;
        private readonly bool _integer;
        private readonly bool _lastValue;
        private readonly string _name;
        private readonly string? _help;
        private readonly double[] _boundaries;
        private readonly Dictionary<int, List<Series>> _series = new();
        private readonly List<Series> _order = [];

        public bool Observable { get; }

        private InstrumentState(Kind kind, bool integer, bool observable, bool lastValue, string name, string? help, double[] boundaries)
        {
            _kind = kind;
            _integer = integer;
            Observable = observable;
            _lastValue = lastValue;
            _name = name;
            _help = help;
            _boundaries = boundaries;
        }

        public static InstrumentState? TryCreate(Instrument instrument, string exportName, bool gauge)
        {
            var type = instrument.GetType();
            if (!type.IsGenericType) return null;
            var definition = type.GetGenericTypeDefinition();
            var valueType = type.GetGenericArguments()[0];
            var integer = valueType == typeof(long) || valueType == typeof(int) || valueType == typeof(short) || valueType == typeof(byte);
            // Counters' and observables' callbacks report running totals (observables) or increments (the rest):
            // an observable's value replaces the last, a synchronous counter's adds to it.
            (Kind kind, bool lastValue) = definition switch
            {
                _ when definition == typeof(Counter<>) => (Kind.Counter, false),
                _ when definition == typeof(UpDownCounter<>) => (Kind.Gauge, false),
                _ when definition == typeof(Histogram<>) => (Kind.Histogram, false),
                _ when definition == typeof(Gauge<>) => (Kind.Gauge, true),
                _ when definition == typeof(ObservableCounter<>) => (Kind.Counter, true),
                _ when definition == typeof(ObservableUpDownCounter<>) => (Kind.Gauge, true),
                _ when definition == typeof(ObservableGauge<>) => (Kind.Gauge, true),
                _ => (Kind.Gauge, false),
            };
            if (kind == Kind.Gauge && !lastValue && definition != typeof(UpDownCounter<>)) return null;
            if (gauge && kind == Kind.Counter) kind = Kind.Gauge;
            var boundaries = instrument is Histogram<double> { Advice.HistogramBucketBoundaries: { } d } ? [.. d]
                : instrument is Histogram<long> { Advice.HistogramBucketBoundaries: { } l } ? l.Select(static b => (double)b).ToArray()
                : instrument is Histogram<int> { Advice.HistogramBucketBoundaries: { } n } ? n.Select(static b => (double)b).ToArray()
                : DefaultBoundaries;
            var name = MetricName(exportName, instrument.Unit, kind == Kind.Counter);
            return new InstrumentState(kind, integer && kind != Kind.Histogram, instrument.IsObservable, lastValue, name,
                string.IsNullOrEmpty(instrument.Description) ? null : instrument.Description, boundaries);
        }

        public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Record((double)value, tags, value);

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Record(value, tags, 0);

        private void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, long integral)
        {
            var hash = LabelSet.Hash(tags);
            lock (_series)
            {
                var series = Find(hash, tags);
                if (_kind == Kind.Histogram)
                {
                    series.Count++;
                    series.Sum += value;
                    var i = 0;
                    while (i < _boundaries.Length && value > _boundaries[i]) i++;
                    series.Buckets![i]++;
                }
                else if (_integer)
                {
                    series.Long = _lastValue ? integral : series.Long + integral;
                }
                else
                {
                    series.Double = _lastValue ? value : series.Double + value;
                }
            }
        }

        // Under the lock. Label sets are few and long-lived: a lookup allocates only for a new one.
        private Series Find(int hash, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_series.TryGetValue(hash, out var candidates))
                foreach (var candidate in candidates)
                    if (candidate.Labels.Matches(tags)) return candidate;
            var labels = LabelSet.Create(tags);
            if (_order.Count >= MaxSeriesPerInstrument)
            {
                labels = LabelSet.Overflow;
                hash = 0;
                if (_series.TryGetValue(hash, out candidates) && candidates.Find(static c => c.Labels.IsOverflow) is { } overflow) return overflow;
            }
            var series = new Series(labels, _kind == Kind.Histogram ? new long[_boundaries.Length + 1] : null);
            if (!_series.TryGetValue(hash, out candidates)) _series[hash] = candidates = new List<Series>(1);
            candidates.Add(series);
            _order.Add(series);
            return series;
        }

        public void Clear()
        {
            lock (_series)
            {
                _series.Clear();
                _order.Clear();
            }
        }

        public void Write(StringBuilder text)
        {
            lock (_series)
            {
                if (_order.Count == 0) return;
                var type = _kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" };
                text.Append("# TYPE ").Append(_name).Append(' ').Append(type).Append('\n');
                if (_help is not null) text.Append("# HELP ").Append(_name).Append(' ').Append(EscapeHelp(_help)).Append('\n');
                foreach (var series in _order)
                {
                    var labels = series.Labels.Text;
                    if (_kind != Kind.Histogram)
                    {
                        Sample(text, _name, labels, null);
                        if (_integer) text.Append(series.Long.ToString(CultureInfo.InvariantCulture));
                        else AppendDouble(text, series.Double);
                        text.Append('\n');
                        continue;
                    }
                    long cumulative = 0;
                    for (var i = 0; i <= _boundaries.Length; i++)
                    {
                        cumulative += series.Buckets![i];
                        var le = new StringBuilder();
                        if (i < _boundaries.Length) AppendDouble(le, _boundaries[i]); else le.Append("+Inf");
                        Sample(text, _name + "_bucket", labels, le.ToString());
                        text.Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    }
                    Sample(text, _name + "_sum", labels, null);
                    AppendDouble(text, series.Sum);
                    text.Append('\n');
                    Sample(text, _name + "_count", labels, null);
                    text.Append(series.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }

        private static void Sample(StringBuilder text, string name, string labels, string? le)
        {
            text.Append(name);
            if (labels.Length > 0 || le is not null)
            {
                text.Append('{').Append(labels);
                if (le is not null) text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
                text.Append('}');
            }
            text.Append(' ');
        }
    }

    private sealed class Series(LabelSet labels, long[]? buckets)
    {
        public LabelSet Labels { get; } = labels;
        public long[]? Buckets { get; } = buckets;
        public long Long;
        public double Double;
        public long Count;
        public double Sum;
    }

    /// <summary>A label set, matched regardless of tag order; <see cref="Text"/> is its rendered form, sorted by key.</summary>
    private sealed class LabelSet
    {
        public static readonly LabelSet Overflow = new("otel_metric_overflow=\"true\"", null);

        // The tags as recorded (boxed values, not their text): matching a measurement allocates nothing.
        private readonly KeyValuePair<string, object?>[]? _tags;

        private LabelSet(string text, KeyValuePair<string, object?>[]? tags)
        {
            Text = text;
            _tags = tags;
        }

        public string Text { get; }

        public bool IsOverflow => _tags is null;

        /// <summary>Independent of the tags' order, as <see cref="Matches"/> is.</summary>
        public static int Hash(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var hash = tags.Length;
            foreach (var tag in tags) hash += HashCode.Combine(tag.Key, tag.Value);
            return hash;
        }

        public static LabelSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var sorted = tags.ToArray();
            Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var text = new StringBuilder();
            foreach (var tag in sorted)
            {
                if (text.Length > 0) text.Append(',');
                text.Append(Sanitize(tag.Key)).Append("=\"").Append(EscapeLabel(Value(tag.Value))).Append('"');
            }
            return new LabelSet(text.ToString(), sorted);
        }

        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (_tags is null || _tags.Length != tags.Length) return false;
            foreach (var tag in tags)
            {
                var matched = false;
                foreach (var mine in _tags)
                    if (mine.Key == tag.Key) { matched = Equals(mine.Value, tag.Value); break; }
                if (!matched) return false;
            }
            return true;
        }

        private static string Value(object? value) => value switch
        {
            null => "",
            string s => s,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    private static void AppendDouble(StringBuilder text, double value)
    {
        if (double.IsPositiveInfinity(value)) text.Append("+Inf");
        else if (double.IsNegativeInfinity(value)) text.Append("-Inf");
        else if (double.IsNaN(value)) text.Append("NaN");
        else text.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
