using System.Diagnostics.Metrics;
using EdgeStream.Common.Metrics;
using EdgeStream.Hosting.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Metrics;

/// <summary>
/// What the node's consumers of data are doing: Kafka consumer groups (lag behind the high watermark),
/// CDC sources (slot lag, rows captured) and the files receiver (files in flight and done). Observable
/// instruments over figures the groups, sources and receiver already keep, read only when scraped.
/// </summary>
internal static class WorkloadMetrics
{
    // Group ids are chosen by clients: bounded like topics so a script creating groups can't grow series forever.
    private static readonly BoundedLabels GroupLabels = new(100);

    public static void Register(Meter m, IServiceProvider services)
    {
        GroupLabels.Max = TopicLabels.MaxTopics;

        m.CreateObservableGauge("edgestream.kafka.group.lag.records", () => GroupLag(services), "{record}",
            "Records between a consumer group's committed offset and the high watermark, summed per group and topic (groups and topics capped by --metrics-max-topics).");

        m.CreateObservableGauge("edgestream.cdc.sources", () => CdcStates(services), "{source}", "CDC sources per state (snapshotting, streaming, reconnecting, failed, starting).");
        m.CreateObservableGauge("edgestream.cdc.slot.lag", () => Cdc(services, static s => s.LagBytes), "By",
            "WAL the source's replication slot holds that the agent has not confirmed yet, per source.");
        m.CreateObservableGauge("edgestream.cdc.lag.age", () => CdcAge(services), "s",
            "Seconds since the last commit the source captured while its slot is behind (0 when caught up), per source.");
        m.CreateObservableCounter("edgestream.cdc.rows", () => Cdc(services, static s => s.Rows), "{row}", "Rows captured into the log (snapshot and stream), per source.");

        m.CreateObservableGauge("edgestream.files.in_flight", () => Files(services, static f => f.Origins.Sum(static o => (long)o.InFlight.Count)), "{file}",
            "Files being reassembled by the files receiver now.");
        m.CreateObservableCounter("edgestream.files.completed", () => Files(services, static f => f.FilesCompleted), "{file}", "Files verified and put in place.");
        m.CreateObservableCounter("edgestream.files.completed.bytes", () => Files(services, static f => f.BytesCompleted), "By", "Bytes of the files put in place.");
        m.CreateObservableCounter("edgestream.files.bad_chunks", () => Files(services, static f => f.BadChunks), "{chunk}", "Chunks whose SHA-256 did not match (a good copy completes the file).");
    }

    private static List<Measurement<long>> GroupLag(IServiceProvider services)
    {
        var list = new List<Measurement<long>>();
        if (services.GetService<EdgeStream.Kafka.Server.KafkaBroker>() is not { } broker
            || services.GetService<StorageState>()?.Manager is not { } manager) return list;
        var sums = new Dictionary<(string Group, string Topic), long>();
        foreach (var g in Kafka.ConsumerGroupLag.Compute(broker, manager))
        {
            var key = (GroupLabels.For(g.GroupId), TopicLabels.For(g.Topic));
            sums[key] = sums.GetValueOrDefault(key) + g.Lag;
        }
        foreach (var ((group, topic), lag) in sums)
            list.Add(new Measurement<long>(lag, new KeyValuePair<string, object?>("group", group), new KeyValuePair<string, object?>("topic", topic)));
        return list;
    }

    private static List<Measurement<long>> CdcStates(IServiceProvider services)
    {
        var list = new List<Measurement<long>>();
        if (services.GetService<EdgeStream.Cdc.CdcService>() is not { } cdc) return list;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["starting"] = 0, ["snapshotting"] = 0, ["streaming"] = 0, ["reconnecting"] = 0, ["failed"] = 0,
        };
        foreach (var s in cdc.Snapshot()) counts[s.State] = counts.GetValueOrDefault(s.State) + 1;
        foreach (var (state, n) in counts) list.Add(new Measurement<long>(n, new KeyValuePair<string, object?>("state", state)));
        return list;
    }

    // Sources are configured by the operator, so their names are a bounded label.
    private static List<Measurement<long>> Cdc(IServiceProvider services, Func<EdgeStream.Cdc.CdcSourceStatusSnapshot, long> read)
    {
        var list = new List<Measurement<long>>();
        if (services.GetService<EdgeStream.Cdc.CdcService>() is not { } cdc) return list;
        foreach (var s in cdc.Snapshot()) list.Add(new Measurement<long>(read(s), new KeyValuePair<string, object?>("source", s.Name)));
        return list;
    }

    private static List<Measurement<double>> CdcAge(IServiceProvider services)
    {
        var list = new List<Measurement<double>>();
        if (services.GetService<EdgeStream.Cdc.CdcService>() is not { } cdc) return list;
        foreach (var s in cdc.Snapshot()) list.Add(new Measurement<double>(s.LagSeconds, new KeyValuePair<string, object?>("source", s.Name)));
        return list;
    }

    private static Measurement<long>[] Files(IServiceProvider services, Func<EdgeStream.Files.Receiving.FilesStatusSnapshot, long> read) =>
        services.GetService<EdgeStream.Files.Receiving.FilesStatus>() is { } files ? [new Measurement<long>(read(files.Snapshot()))] : [];
}
