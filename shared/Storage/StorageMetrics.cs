using System.Diagnostics;
using System.Diagnostics.Metrics;
using EdgeStream.Common.Metrics;

namespace EdgeStream.Storage;

/// <summary>
/// The storage library's meter and the instruments it records on its own paths (appends, fsyncs).
/// Figures the log already keeps (offsets, sizes, disk use) are read by observable instruments in the
/// host instead. Names follow Prometheus conventions once exported (<c>edgestream_topic_in_records_total</c>).
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "EdgeStream.Storage";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> RecordsIn = Meter.CreateCounter<long>("edgestream.topic.in.records", "{record}",
        "Records appended to the log (Kafka, MQTT, uplink), per topic, once durable.");
    private static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("edgestream.topic.in.bytes", "By",
        "Record-batch bytes appended to the log, per topic, once durable.");
    private static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram("edgestream.storage.fsync.duration", "s",
        "Time of one fsync of a segment (group commit, roll or --fsync os flush).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    internal static void Appended(string topic, long records, long bytes)
    {
        if (!RecordsIn.Enabled) return;
        var tag = new KeyValuePair<string, object?>("topic", TopicLabels.For(topic));
        RecordsIn.Add(records, tag);
        BytesIn.Add(bytes, tag);
    }

    internal static void Fsynced(long startTimestamp)
    {
        if (FsyncDuration.Enabled) FsyncDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
    }

    internal static long Now() => Stopwatch.GetTimestamp();
}
