using System.Diagnostics.Metrics;
using EdgeStream.Common.Metrics;
using EdgeStream.Hosting.Storage;
using EdgeStream.Mqtt.Limits;
using EdgeStream.Uplink.Receiving;
using EdgeStream.Uplink.Sending;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Metrics;

/// <summary>
/// The host's meter: observable instruments over figures the node already keeps for <c>/v1/status</c>
/// (partition offsets and sizes, the disk budget, the uplink sender's counters and backlog, children
/// connected, MQTT clients, mesh members). Read only when scraped, so they cost nothing in between.
/// One per node (created from the host's <see cref="IMeterFactory"/>, disposed with it).
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "EdgeStream.Hosting";

    private readonly Meter _meter;
    private readonly IServiceProvider _services;

    public NodeMetrics(IMeterFactory factory, IServiceProvider services)
    {
        _services = services;
        _meter = factory.Create(MeterName);
        var m = _meter;

        m.CreateObservableGauge("edgestream.partition.log_end_offset", PartitionEndOffsets, "{offset}",
            "Next offset to be assigned, per partition (topics over --metrics-max-topics are left out).");
        m.CreateObservableGauge("edgestream.partition.size", PartitionSizes, "By", "Bytes on disk, per partition.");
        m.CreateObservableGauge("edgestream.disk.used", () => Storage?.Manager?.UsedBytes ?? 0, "By", "Bytes the log uses.");
        m.CreateObservableGauge("edgestream.disk.budget", () => Storage?.Manager?.MaxDiskBytes ?? 0, "By", "--max-disk in bytes; 0 = no budget.");
        m.CreateObservableCounter("edgestream.disk.dropped.records", () => DroppedPerTopic(static d => d.Records), "{record}",
            "Records deleted by disk.full.policy=drop-oldest, per topic.");
        m.CreateObservableCounter("edgestream.disk.dropped.bytes", () => DroppedPerTopic(static d => d.Bytes), "By",
            "Bytes deleted by disk.full.policy=drop-oldest, per topic.");
        m.CreateObservableGauge("edgestream.storage.open", () => Storage?.IsOpen == true ? 1 : 0, "", "1 once the log is open.");

        m.CreateObservableGauge("edgestream.uplink.connected", () => Sender(static s => s.Connected ? 1L : 0L), "",
            "1 while the stream to the parent answers, per parent.");
        m.CreateObservableCounter("edgestream.uplink.sent.frames", () => Sender(static s => s.FramesSent), "{frame}", "Frames sent to the parent.");
        m.CreateObservableCounter("edgestream.uplink.sent.records", () => Sender(static s => s.RecordsSent), "{record}", "Records sent to the parent.");
        m.CreateObservableCounter("edgestream.uplink.sent.bytes", () => Sender(static s => s.BytesSent), "By", "Compressed frame bytes sent to the parent.");
        m.CreateObservableCounter("edgestream.uplink.sent.raw_bytes", () => Sender(static s => s.RawBytesSent), "By", "The same frames' bytes before compression.");
        m.CreateObservableGauge("edgestream.uplink.compression.ratio",
            () => Sender(static s => s.BytesSent > 0 ? (double)s.RawBytesSent / s.BytesSent : 0), "",
            "Bytes before compression per byte sent, since start (0 before the first frame).");
        m.CreateObservableCounter("edgestream.uplink.acked.records", () => Sender(static s => s.RecordsAcked), "{record}", "Records the parent acknowledged.");
        m.CreateObservableCounter("edgestream.uplink.duplicate.frames", () => Sender(static s => s.Duplicates), "{frame}", "Frames the parent already had.");
        m.CreateObservableCounter("edgestream.uplink.retried.frames", () => Sender(static s => s.Retried), "{frame}", "Frames the parent could not take then (sent again).");
        m.CreateObservableCounter("edgestream.uplink.reconnects", () => Sender(static s => s.Reconnects), "{reconnect}", "Reconnects to a parent.");
        m.CreateObservableGauge("edgestream.uplink.lag.records", () => Backlog(static b => b.Records), "{record}",
            "Records not yet acknowledged by the parent, per topic (capped).");
        m.CreateObservableGauge("edgestream.uplink.lag.bytes", () => Backlog(static b => b.Bytes), "By",
            "Estimated bytes not yet acknowledged by the parent, per topic (capped).");
        m.CreateObservableGauge("edgestream.uplink.lag.age", BacklogAge, "s",
            "How long the most-behind partition of a topic has been behind (bounds the age of its oldest unacknowledged record).");

        m.CreateObservableGauge("edgestream.uplink.children.connected", () => _services.GetService<UplinkReceiverStats>()?.ChildrenConnected ?? 0,
            "{stream}", "Children's uplink streams open now.");

        m.CreateObservableGauge("edgestream.sink.state", SinkState, "",
            "1 for the sink's current state (connected, retrying, waiting-for-gap, error, starting), 0 for the others; absent without --sink.");
        m.CreateObservableCounter("edgestream.sink.sent.records", () => Sink(static s => s.RecordsSent), "{record}", "Records written to the external Kafka cluster.");
        m.CreateObservableCounter("edgestream.sink.sent.bytes", () => Sink(static s => s.BytesSent), "By", "Record bytes (uncompressed) written to the external Kafka cluster.");
        m.CreateObservableCounter("edgestream.sink.errors", () => Sink(static s => s.Errors), "{error}", "Failed attempts toward the external Kafka cluster (each retried).");
        m.CreateObservableCounter("edgestream.sink.duplicates.skipped", () => Sink(static s => s.DuplicatesSkipped), "{record}",
            "Records not written because the external cluster already had them.");
        m.CreateObservableCounter("edgestream.sink.duplicates.found", () => Sink(static s => s.DuplicatesFound), "{record}",
            "Records found twice in the external cluster (two cloud nodes wrote one origin at once); should stay 0.");
        m.CreateObservableGauge("edgestream.sink.lag.records", SinkLag, "{record}", "Records in this node's log not yet in the external cluster, per topic.");

        m.CreateObservableGauge("edgestream.mqtt.clients", () => _services.GetService<MqttConnectionGuard>()?.Connections ?? _services.GetService<EdgeStream.Mqtt.Core.MqttCoreBroker>()?.Connections ?? 0, "{client}",
            "MQTT connections open now.");
        m.CreateObservableGauge("edgestream.mqtt.queued", () => _services.GetService<MqttConnectionGuard>()?.QueuedMessages() ?? _services.GetService<EdgeStream.Mqtt.Core.MqttCoreBroker>()?.QueuedMessages() ?? 0, "{message}",
            "Messages waiting in subscribers' queues (every session, connected or not).");
        m.CreateObservableGauge("edgestream.mqtt.sessions.reading_log", () => _services.GetService<EdgeStream.Mqtt.Core.MqttCoreBroker>()?.SessionsReadingFromLog() ?? 0, "{session}",
            "Sessions of the own MQTT core whose QoS 1/2 messages beyond --mqtt-max-queued are read back from the log.");
        m.CreateObservableCounter("edgestream.mqtt.queue.dropped", () => _services.GetService<MqttConnectionGuard>()?.DroppedMessages ?? _services.GetService<EdgeStream.Mqtt.Core.MqttCoreBroker>()?.DroppedMessages ?? 0, "{message}",
            "Messages dropped from a slow subscriber's full queue (--mqtt-max-queued).");
        m.CreateObservableCounter("edgestream.mqtt.connections.refused", () => _services.GetService<MqttConnectionGuard>()?.RefusedConnections ?? _services.GetService<EdgeStream.Mqtt.Core.MqttCoreBroker>()?.RefusedConnections ?? 0, "{connection}",
            "MQTT CONNECTs refused for --mqtt-max-connections.");

        m.CreateObservableCounter("edgestream.auth.failures", AuthFailures, "{attempt}",
            "Failed authentications (Kafka SASL, MQTT user name and password), per protocol.");

        m.CreateObservableGauge("edgestream.fleet.nodes", FleetNodes, "{node}",
            "Nodes below this one that report their status (see /v1/fleet), per state (ok, stale).");

        m.CreateObservableGauge("edgestream.mesh.members", MeshMembers, "{member}", "Mesh members this node sees, per scope and state.");
        m.CreateObservableCounter("edgestream.mesh.gossip.rejected", MeshGossipRejected, "{message}",
            "Gossip dropped because no --gossip-key authenticated it, per channel (datagram, push-pull).");

        WorkloadMetrics.Register(m, services);
    }

    private StorageState? Storage => _services.GetService<StorageState>();

    private IEnumerable<Measurement<long>> PartitionEndOffsets() => Partitions(static p => p.LogEndOffset);

    private IEnumerable<Measurement<long>> PartitionSizes() => Partitions(static p => p.SizeBytes);

    private List<Measurement<long>> Partitions(Func<EdgeStream.Storage.PartitionLog, long> read)
    {
        var list = new List<Measurement<long>>();
        if (Storage?.Manager is not { } manager) return list;
        foreach (var topic in manager.Topics)
        {
            // Per-partition series only for labelled topics: summing offsets into "_other" means nothing.
            if (!TopicLabels.IsLabelled(topic.Name)) continue;
            foreach (var p in topic.Partitions)
                list.Add(new Measurement<long>(read(p), new KeyValuePair<string, object?>("topic", topic.Name), new KeyValuePair<string, object?>("partition", p.Partition)));
        }
        return list;
    }

    private Measurement<long>[] AuthFailures()
    {
        var audit = _services.GetService<EdgeStream.Security.Authentication.UserAuthenticator>()?.Audit;
        if (audit is null) return [];
        return
        [
            new(audit.KafkaFailures, new KeyValuePair<string, object?>("protocol", "kafka")),
            new(audit.MqttFailures, new KeyValuePair<string, object?>("protocol", "mqtt")),
        ];
    }

    private List<Measurement<long>> DroppedPerTopic(Func<EdgeStream.Storage.DropCounters, long> read)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        if (Storage?.Manager is { } manager)
        {
            foreach (var topic in manager.Topics)
            {
                var d = topic.Dropped;
                if (d.Segments == 0) continue;
                var label = TopicLabels.For(topic.Name);
                sums[label] = sums.GetValueOrDefault(label) + read(d);
            }
        }
        return ToMeasurements(sums);
    }

    private Measurement<T>[] Sender<T>(Func<UplinkStatus, T> read) where T : struct
    {
        if (_services.GetService<UplinkStatus>() is not { } status) return [];
        return [new Measurement<T>(read(status), new KeyValuePair<string, object?>("parent", status.CurrentParent ?? "none"))];
    }

    private List<Measurement<long>> Backlog(Func<PartitionBacklog, long> read)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        if (_services.GetService<UplinkStatus>() is { } status)
            foreach (var b in status.Backlog)
            {
                var label = TopicLabels.For(b.Topic);
                sums[label] = sums.GetValueOrDefault(label) + read(b);
            }
        return ToMeasurements(sums);
    }

    private Measurement<long>[] Sink(Func<EdgeStream.Sink.SinkStatus, long> read) =>
        _services.GetService<EdgeStream.Sink.SinkStatus>() is { } status ? [new Measurement<long>(read(status))] : [];

    private List<Measurement<long>> SinkState()
    {
        var list = new List<Measurement<long>>();
        if (_services.GetService<EdgeStream.Sink.SinkStatus>() is not { } status) return list;
        var current = status.State;
        foreach (var state in Enum.GetValues<EdgeStream.Sink.SinkState>())
            list.Add(new Measurement<long>(state == current ? 1 : 0, new KeyValuePair<string, object?>("state", EdgeStream.Sink.SinkStatus.StateText(state))));
        return list;
    }

    private List<Measurement<long>> SinkLag()
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        if (_services.GetService<EdgeStream.Sink.SinkStatus>() is { } status)
            foreach (var (topic, lag) in status.LagByTopic())
            {
                var label = TopicLabels.For(topic);
                sums[label] = sums.GetValueOrDefault(label) + lag;
            }
        return ToMeasurements(sums);
    }

    private List<Measurement<double>> BacklogAge()
    {
        var ages = new Dictionary<string, double>(StringComparer.Ordinal);
        if (_services.GetService<UplinkStatus>() is { } status)
            foreach (var b in status.Backlog)
            {
                var label = TopicLabels.For(b.Topic);
                ages[label] = Math.Max(ages.GetValueOrDefault(label), b.AgeSeconds);
            }
        var list = new List<Measurement<double>>(ages.Count);
        foreach (var (topic, age) in ages) list.Add(new Measurement<double>(age, new KeyValuePair<string, object?>("topic", topic)));
        return list;
    }

    private List<Measurement<long>> MeshMembers()
    {
        var list = new List<Measurement<long>>();
        if (_services.GetService<Mesh.MeshService>() is not { } mesh) return list;
        foreach (var scope in mesh.Scopes)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal) { ["alive"] = 0, ["suspect"] = 0, ["dead"] = 0, ["left"] = 0 };
            IReadOnlyList<EdgeStream.Mesh.Membership.Member> members;
            try { members = scope.Members; }
            catch (ObjectDisposedException) { continue; }
            foreach (var member in members)
            {
                var state = Mesh.MeshStatus.StateText(member.State);
                counts[state] = counts[state] + 1;
            }
            foreach (var (state, n) in counts)
                list.Add(new Measurement<long>(n, new KeyValuePair<string, object?>("scope", scope.Scope), new KeyValuePair<string, object?>("state", state)));
        }
        return list;
    }

    private Measurement<long>[] MeshGossipRejected()
    {
        if (_services.GetService<Mesh.MeshService>()?.Encryption is not { } encryption) return [];
        return
        [
            new(encryption.DatagramsRejected, new KeyValuePair<string, object?>("channel", "datagram")),
            new(encryption.ExchangesRejected, new KeyValuePair<string, object?>("channel", "push-pull")),
        ];
    }

    private Measurement<long>[] FleetNodes()
    {
        if (_services.GetService<EdgeStream.Uplink.Fleet.FleetRegistry>() is not { } registry) return [];
        var staleAfter = _services.GetRequiredService<Configuration.AgentOptions>().FleetStaleAfter.TotalMilliseconds;
        long ok = 0, stale = 0;
        var now = registry.NowMs;
        foreach (var entry in registry.Snapshot())
        {
            if (now - entry.HeardAtMs > staleAfter) stale++;
            else ok++;
        }
        return [new(ok, new KeyValuePair<string, object?>("state", "ok")), new(stale, new KeyValuePair<string, object?>("state", "stale"))];
    }

    private static List<Measurement<long>> ToMeasurements(Dictionary<string, long> sums)
    {
        var list = new List<Measurement<long>>(sums.Count);
        foreach (var (topic, value) in sums) list.Add(new Measurement<long>(value, new KeyValuePair<string, object?>("topic", topic)));
        return list;
    }

    public void Dispose() => _meter.Dispose();
}
