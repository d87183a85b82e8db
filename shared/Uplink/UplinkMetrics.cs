using System.Diagnostics.Metrics;

namespace EdgeStream.Uplink;

/// <summary>
/// The uplink library's meter: what a sender cannot read off its counters (how long a parent takes to
/// acknowledge a frame) and, at a parent, frames per child. Child labels are node ids of direct
/// children: bounded by the hierarchy, not by traffic; revoked node labels by the deny list. The sender's running totals (frames, bytes,
/// backlog) are exported by the host from <see cref="Sending.UplinkStatus"/>.
/// </summary>
public static class UplinkMetrics
{
    public const string MeterName = "EdgeStream.Uplink";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> AckDuration = Meter.CreateHistogram("edgestream.uplink.ack.duration", "s",
        "Time from sending a frame to the parent's reply (durable at the parent), per parent.",
        tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    private static readonly Counter<long> ChildFrames = Meter.CreateCounter<long>("edgestream.uplink.child.frames", "{frame}",
        "Frames received from a child and acknowledged (OK or DUPLICATE), per child node id.");
    private static readonly Counter<long> ChildRecords = Meter.CreateCounter<long>("edgestream.uplink.child.records", "{record}",
        "Records of a child's frames written here, per child node id.");
    private static readonly Counter<long> ChildDuplicates = Meter.CreateCounter<long>("edgestream.uplink.child.duplicate.records", "{record}",
        "Records a child sent that were already stored (dropped by the de-duplication), per child node id.");
    private static readonly Counter<long> ChildRefusals = Meter.CreateCounter<long>("edgestream.uplink.child.refusals", "{frame}",
        "Frames of a child answered INVALID, STORAGE_FULL, UNAVAILABLE or REJECTED, per child node id and code.");
    private static readonly Counter<long> RevokedRefusals = Meter.CreateCounter<long>("edgestream.uplink.revoked.refusals", "{refusal}",
        "Streams and frames refused because the node is revoked, per child node id and revoked node id (the child, or an origin it relays).");

    internal static void Acked(string parent, double seconds) =>
        AckDuration.Record(seconds, new KeyValuePair<string, object?>("parent", parent));

    internal static void ChildAcked(string child, int written, int received)
    {
        var tag = new KeyValuePair<string, object?>("child", child);
        ChildFrames.Add(1, tag);
        if (written > 0) ChildRecords.Add(written, tag);
        if (received > written) ChildDuplicates.Add(received - written, tag);
    }

    internal static void RevokedRefused(string child, string node) =>
        RevokedRefusals.Add(1, new KeyValuePair<string, object?>("child", child), new KeyValuePair<string, object?>("node", node));

    internal static void ChildRefused(string child, string code) =>
        ChildRefusals.Add(1, new KeyValuePair<string, object?>("child", child), new KeyValuePair<string, object?>("code", code));
}
