using System.Buffers.Binary;
using System.Diagnostics;

namespace EdgeStream.Bench;

/// <summary>
/// End-to-end latency of stamped payloads: the producer writes <see cref="Stopwatch.GetTimestamp"/>
/// into the first 8 bytes, one consumer thread records now minus that stamp. Producer and consumer
/// share the process, so the clock is the same.
/// </summary>
public sealed class LatencyRecorder
{
    private readonly long[] _samples;
    private int _count;

    public LatencyRecorder(int capacity) => _samples = new long[capacity];

    public int Count => Volatile.Read(ref _count);

    public static void Stamp(Span<byte> payload) => BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());

    /// <summary>Records one payload (one consumer thread only); returns false for an unstamped (warm-up) payload.</summary>
    public bool Record(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 8) return false;
        var sent = BinaryPrimitives.ReadInt64LittleEndian(payload);
        if (sent <= 0) return false;
        var n = _count;
        if (n < _samples.Length) _samples[n] = Stopwatch.GetTimestamp() - sent;
        Volatile.Write(ref _count, n + 1);
        return true;
    }

    /// <summary>Records a latency measured elsewhere, in <see cref="Stopwatch"/> ticks (one consumer thread only).</summary>
    public void RecordTicks(long ticks)
    {
        var n = _count;
        if (n < _samples.Length) _samples[n] = ticks;
        Volatile.Write(ref _count, n + 1);
    }

    /// <summary>The <paramref name="q"/> quantile (0..1) in milliseconds.</summary>
    public double QuantileMs(double q)
    {
        var n = Math.Min(Count, _samples.Length);
        if (n == 0) return double.NaN;
        var sorted = _samples.AsSpan(0, n);
        sorted.Sort();
        return sorted[Math.Min(n - 1, (int)(n * q))] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>p50, p99 and max in milliseconds.</summary>
    public (double P50, double P99, double Max) Percentiles()
    {
        var n = Math.Min(Count, _samples.Length);
        if (n == 0) return (double.NaN, double.NaN, double.NaN);
        var sorted = _samples.AsSpan(0, n);
        sorted.Sort();
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        return (Ms(sorted[(int)(n * 0.50)]), Ms(sorted[Math.Min(n - 1, (int)(n * 0.99))]), Ms(sorted[n - 1]));
    }
}
