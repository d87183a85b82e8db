using System.Text;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Edge → gateway → cloud with real agent processes on loopback: data accepted while the link is
/// down arrives at the cloud exactly once, in order, byte for byte, with its origin — also when a
/// tier is killed with SIGKILL in the middle of draining.
/// </summary>
public sealed class StoreAndForwardTests
{
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(240);

    private sealed class Tiers : IAsyncDisposable
    {
        public required TempDirectory Dir { get; init; }
        public required AgentNode Cloud { get; init; }
        public required AgentNode Gateway { get; init; }
        public required AgentNode Edge { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Edge.DisposeAsync();
            await Gateway.DisposeAsync();
            await Cloud.DisposeAsync();
            Dir.Dispose();
        }
    }

    /// <summary>Cloud running, gateway prepared but DOWN, edge running and pointing at the gateway.</summary>
    private static async Task<Tiers> StartWithGatewayDownAsync(string edgeId = "edge-a", string? uplinkRate = null)
    {
        // A bandwidth cap on both senders makes the drain last long enough to kill a tier in the middle of it.
        string[] rate = uplinkRate is null ? [] : ["--uplink-rate", uplinkRate];
        var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", "--node-id", "cloud-1", "--partitions", partitions);
        var gateway = AgentNode.Prepare(dir.Combine("gateway"), "gateway", ["--node-id", "gw-1", "--partitions", partitions,
            "--parent", $"127.0.0.1:{cloud.UplinkPort}", .. rate]);
        var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", ["--node-id", edgeId, "--partitions", partitions,
            "--parent", $"127.0.0.1:{gateway.UplinkPort}", .. rate]);
        return new Tiers { Dir = dir, Cloud = cloud, Gateway = gateway, Edge = edge };
    }

    [Fact]
    public async Task GatewayDownWhileEdgeTakes100kKafkaAndMqtt_AllArriveAtCloudExactlyOnceInOrderWithOrigin()
    {
        await using var t = await StartWithGatewayDownAsync();
        const int kafkaRecords = 99_000;
        const int mqttMessages = 1_000;

        // The link is down: the edge keeps accepting and storing.
        Hierarchy.Produce(t.Edge.Bootstrap, "telemetry", "k", 0, kafkaRecords);
        PublishMqtt(t.Edge.MqttPort, mqttMessages);
        Assert.Equal(kafkaRecords, LogReader.Count(t.Edge.Bootstrap, "telemetry"));
        Assert.Equal(mqttMessages, LogReader.Count(t.Edge.Bootstrap, "mqtt"));

        await t.Gateway.RestartAsync(); // the gateway comes up: the backlog drains through it

        var telemetry = await Hierarchy.ReadAllAsync(t.Cloud, "telemetry", Drain, t.Edge, t.Gateway);
        Hierarchy.AssertExactlyOnce(telemetry, "k", kafkaRecords, "edge-a", "telemetry");

        var mqtt = await Hierarchy.ReadAllAsync(t.Cloud, "mqtt", Drain, t.Edge, t.Gateway);
        Assert.Equal(mqttMessages, mqtt.Count);
        Assert.Equal(mqttMessages, mqtt.Select(m => Encoding.UTF8.GetString(m.Value!)).Distinct().Count());
        Assert.All(mqtt, m =>
        {
            Assert.Equal("edge-a", m.OriginNode);
            Assert.Equal("mqtt", m.OriginTopic);
            Assert.StartsWith("sensors/", Encoding.UTF8.GetString(m.Key!));
            Assert.Equal("1", m.Header("mqtt.qos"));
        });
        // One MQTT topic stays in order end to end (payload carries the publish sequence).
        foreach (var g in mqtt.GroupBy(m => Encoding.UTF8.GetString(m.Key!)))
        {
            var seqs = g.OrderBy(m => m.Partition).ThenBy(m => m.Offset).Select(m => int.Parse(Encoding.UTF8.GetString(m.Value!).Split(' ')[1])).ToList();
            Assert.Equal(seqs.Order(), seqs);
        }
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("edge")]
    [InlineData("cloud")]
    public async Task TierKilledMidDrain_RestartedAndStillExactlyOnce(string victim)
    {
        await using var t = await StartWithGatewayDownAsync(uplinkRate: "1MiB/s");
        const int records = 30_000; // about 4 MB on the wire: ~4 s per hop at 1 MiB/s
        Hierarchy.Produce(t.Edge.Bootstrap, "telemetry", "k", 0, records);
        await t.Gateway.RestartAsync();

        // Kill while data is on its way: some, not all, has reached the cloud (or the gateway).
        var watch = victim == "cloud" ? t.Cloud : t.Gateway;
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(watch.Bootstrap, "telemetry") > 0, TimeSpan.FromSeconds(60)),
            $"nothing reached the {(victim == "cloud" ? "cloud" : "gateway")}.\nedge:\n{t.Edge.Process.Stderr}");
        var node = victim switch { "gateway" => t.Gateway, "edge" => t.Edge, _ => t.Cloud };
        var before = LogReader.Count(watch.Bootstrap, "telemetry");
        await node.KillAsync();
        Assert.True(before < records, $"the drain was over ({before} records) before the {victim} was killed");

        // More data while a tier is dead (the edge itself takes it once it is back), then bring it back.
        if (victim != "edge") Hierarchy.Produce(t.Edge.Bootstrap, "telemetry", "k", records, records + 5_000);
        await node.RestartAsync();
        if (victim == "edge") Hierarchy.Produce(t.Edge.Bootstrap, "telemetry", "k", records, records + 5_000);

        var arrived = await Hierarchy.ReadAllAsync(t.Cloud, "telemetry", Drain, t.Edge, t.Gateway);
        Hierarchy.AssertExactlyOnce(arrived, "k", records + 5_000, "edge-a", "telemetry");
    }

    [Fact]
    public async Task TwoEdgesIntoOneGateway_BothArriveExactlyOnceAndOriginTellsThemApart()
    {
        await using var t = await StartWithGatewayDownAsync("edge-a");
        var partitions = Hierarchy.Partitions.ToString();
        await using var edgeB = await AgentNode.StartAsync(t.Dir.Combine("edge-b"), "edge", "--node-id", "edge-b", "--partitions", partitions,
            "--parent", $"127.0.0.1:{t.Gateway.UplinkPort}");
        Hierarchy.Produce(t.Edge.Bootstrap, "telemetry", "a", 0, 10_000);
        Hierarchy.Produce(edgeB.Bootstrap, "telemetry", "b", 0, 10_000);
        await t.Gateway.RestartAsync();

        var arrived = await Hierarchy.ReadAllAsync(t.Cloud, "telemetry", Drain, t.Edge, edgeB, t.Gateway);
        Hierarchy.AssertExactlyOnce(arrived, "a", 10_000, "edge-a", "telemetry");
        Hierarchy.AssertExactlyOnce(arrived, "b", 10_000, "edge-b", "telemetry");
        Assert.Equal(20_000, arrived.Count);
    }

    [Fact]
    public async Task EdgeWithTwoParents_FirstDies_DataGoesThroughTheSecond_ExactlyOnceAtCloud()
    {
        using var dir = new TempDirectory();
        var partitions = Hierarchy.Partitions.ToString();
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", "--node-id", "cloud-1", "--partitions", partitions);
        await using var gwA = await AgentNode.StartAsync(dir.Combine("gw-a"), "gateway", "--node-id", "gw-a", "--partitions", partitions,
            "--parent", $"127.0.0.1:{cloud.UplinkPort}");
        await using var gwB = await AgentNode.StartAsync(dir.Combine("gw-b"), "gateway", "--node-id", "gw-b", "--partitions", partitions,
            "--parent", $"127.0.0.1:{cloud.UplinkPort}");
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", partitions,
            "--parent", $"127.0.0.1:{gwA.UplinkPort}", "--parent", $"127.0.0.1:{gwB.UplinkPort}");

        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 0, 10_000);
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(gwA.Bootstrap, "telemetry") > 0, TimeSpan.FromSeconds(60)),
            $"nothing reached the first parent.\nedge:\n{edge.Process.Stderr}");
        await gwA.KillAsync();
        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 10_000, 20_000);

        // Everything the edge still had goes through the second parent...
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(gwB.Bootstrap, "telemetry") > 0, TimeSpan.FromSeconds(120)),
            $"nothing reached the second parent.\nedge:\n{edge.Process.Stderr}");
        // ...and what the dead parent had acknowledged but not forwarded comes when it returns.
        await gwA.RestartAsync();

        var arrived = await Hierarchy.ReadAllAsync(cloud, "telemetry", Drain, edge, gwA, gwB);
        // Across a failover, records can reach the cloud by two paths in either order: exactly once, not in order.
        Hierarchy.AssertExactlyOnce(arrived, "k", 20_000, "edge-a", "telemetry", checkOrder: false);
    }

    [Fact]
    public async Task DiskBudgetFullWhileOffline_Block_RefusesClearlyAndLosesNothingAccepted()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--partitions", "1");
        await gateway.StopAsync(); // the parent is down
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", "1",
            "--max-disk", "4MiB", "--segment-bytes", "256KiB", "--parent", $"127.0.0.1:{gateway.UplinkPort}");

        var accepted = ProduceUntilRefused(edge.Bootstrap, "telemetry", "k", 100_000, out var error, out var acked);
        Assert.True(accepted > 1000 && accepted < 100_000, $"accepted {accepted}");
        Assert.True(error.Contains("KafkaStorageError", StringComparison.Ordinal) || error.Contains("Disk error", StringComparison.OrdinalIgnoreCase),
            $"expected KAFKA_STORAGE_ERROR, got {error}");

        await gateway.RestartAsync();
        // Exactly the acknowledged records (a smaller batch after a refused one may still fit, so
        // they need not be a prefix), each once, bytes intact.
        var arrived = await Hierarchy.ReadAllAsync(gateway, "telemetry", Drain, edge);
        Assert.Equal(acked.Order(), arrived.Select(a => int.Parse(a.Header("seq")!)).Order());
        foreach (var a in arrived)
        {
            var expected = Hierarchy.Record("k", int.Parse(a.Header("seq")!));
            Assert.Equal(expected.Value, a.Value);
            Assert.Equal("edge-a", a.OriginNode);
        }
    }

    [Fact]
    public async Task DiskBudgetFullWhileOffline_DropOldest_DropsOnlyWhatItReports()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--partitions", "1");
        await gateway.StopAsync();
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", "1",
            "--max-disk", "4MiB", "--segment-bytes", "256KiB", "--disk-full-policy", "drop-oldest", "--parent", $"127.0.0.1:{gateway.UplinkPort}");

        const int produced = 60_000; // ~8 MB of records into a 4 MiB budget
        var accepted = ProduceUntilRefused(edge.Bootstrap, "telemetry", "k", produced, out var error, out _);
        Assert.True(accepted == produced, $"drop-oldest refused a record after {accepted}: {error}");
        // What was dropped is exactly the prefix below the log start offset (one partition).
        var dropped = LogReader.Watermarks(edge.Bootstrap, "telemetry").Low.Value;
        Assert.True(dropped > 0, "nothing was dropped, the budget was never hit");
        // ...and that is what the node reports having dropped.
        Assert.Equal(dropped, (await edge.StatusAsync()).GetProperty("droppedRecords").GetInt64());

        await gateway.RestartAsync();
        var arrived = await Hierarchy.ReadAllAsync(gateway, "telemetry", Drain, edge);
        Assert.Equal(produced - dropped, arrived.Count);
        var seqs = arrived.Select(a => int.Parse(a.Header("seq")!)).Order().ToList();
        Assert.Equal(Enumerable.Range((int)dropped, (int)(produced - dropped)), seqs);
    }

    [Fact]
    public async Task EdgeWithFsyncOs_ForwardsOnlyWhatIsOnDisk_AndEverythingArrives()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--partitions", "1");
        // Under --fsync os acknowledged records reach the disk at the next flush; only then do they go up.
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", "1",
            "--fsync", "os", "--flush-interval", "300ms", "--parent", $"127.0.0.1:{gateway.UplinkPort}");
        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 0, 5_000);
        var arrived = await Hierarchy.ReadAllAsync(gateway, "telemetry", TimeSpan.FromSeconds(60), edge);
        Hierarchy.AssertExactlyOnce(arrived, "k", 5_000, "edge-a", "telemetry");
    }

    [Fact]
    public async Task RecordTooLargeForTheParent_HoldsBackOnlyItsPartition_OthersFlow_NothingSkipped()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--partitions", "1");
        // The parent's copy of "big" accepts at most 64 KiB per batch; the edge's accepts 1 MiB.
        using (var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = gateway.Bootstrap })
                   .SetLogHandler((_, _) => { }).Build())
        {
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification
            {
                Name = "big", NumPartitions = 1, ReplicationFactor = 1,
                Configs = new Dictionary<string, string> { ["max.message.bytes"] = "65536" },
            }]);
        }
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--partitions", "1",
            "--parent", $"127.0.0.1:{gateway.UplinkPort}");

        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig
               { BootstrapServers = edge.Bootstrap, Acks = Confluent.Kafka.Acks.All, LingerMs = 0 }).SetLogHandler((_, _) => { }).Build())
        {
            await producer.ProduceAsync("big", new Confluent.Kafka.Message<string, byte[]> { Key = "before", Value = new byte[100] });
            var huge = new byte[200_000];
            new Random(5).NextBytes(huge); // incompressible: no codec squeezes it under the parent's 64 KiB
            await producer.ProduceAsync("big", new Confluent.Kafka.Message<string, byte[]> { Key = "huge", Value = huge });
            await producer.ProduceAsync("big", new Confluent.Kafka.Message<string, byte[]> { Key = "after", Value = new byte[100] });
            for (var i = 0; i < 100; i++)
                await producer.ProduceAsync("small", new Confluent.Kafka.Message<string, byte[]> { Key = "s" + i, Value = new byte[10] });
        }

        // Another topic on the same uplink is not held up by the refusal...
        var small = await Hierarchy.ReadAllAsync(gateway, "small", TimeSpan.FromSeconds(60), edge);
        Assert.Equal(100, small.Count);
        // ...and "big" stops at the record the parent cannot take (the frame holding it is refused
        // whole): nothing at or after it is stored, nothing is skipped ahead. The refusal is logged
        // when its reply comes back; a sentinel produced after that and seen at the gateway shows the
        // sender went on sending past it (the parent takes one stream's frames in order), so a record
        // of "big" sent after the refused frame — skipping ahead — would be stored by then.
        Assert.True(await Wait.UntilAsync(() => (edge.Process.Stdout + edge.Process.Stderr).Contains("cannot store big-0"), TimeSpan.FromSeconds(60)),
            $"the parent's refusal was never logged.\nedge:\n{edge.Process.Stderr}");
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig
                   { BootstrapServers = edge.Bootstrap, Acks = Confluent.Kafka.Acks.All }).SetLogHandler((_, _) => { }).Build())
        {
            await producer.ProduceAsync("small", new Confluent.Kafka.Message<string, byte[]> { Key = "sentinel", Value = new byte[10] });
        }
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(gateway.Bootstrap, "small") == 101, TimeSpan.FromSeconds(60)),
            $"the sentinel never reached the gateway.\nedge:\n{edge.Process.Stderr}");
        var big = await Hierarchy.ReadAllAsync(gateway, "big", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(big, r => System.Text.Encoding.UTF8.GetString(r.Key!) is "huge" or "after");
        // The edge still has everything and both nodes are up.
        Assert.Equal(3, LogReader.Count(edge.Bootstrap, "big"));
        Assert.Contains("cannot store big-0", edge.Process.Stdout + edge.Process.Stderr);
    }

    /// <summary>Produces one record at a time (acks=all, no retries) until the first refusal; returns how many were acknowledged.</summary>
    private static int ProduceUntilRefused(string bootstrap, string topic, string tag, int max, out string error, out List<int> acked)
    {
        using var producer = new Confluent.Kafka.ProducerBuilder<byte[], byte[]>(new Confluent.Kafka.ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Confluent.Kafka.Acks.All,
            MessageTimeoutMs = 5000,
            MessageSendMaxRetries = 0,
            LingerMs = 2,
            BrokerAddressFamily = Confluent.Kafka.BrokerAddressFamily.V4,
        }).SetLogHandler((_, _) => { }).Build();
        error = "";
        const int window = 500;
        acked = [];
        for (var start = 0; start < max; start += window)
        {
            var results = new List<Task<Confluent.Kafka.DeliveryResult<byte[], byte[]>>>();
            for (var i = start; i < Math.Min(max, start + window); i++) results.Add(producer.ProduceAsync(topic, Hierarchy.Record(tag, i)));
            for (var k = 0; k < results.Count; k++)
            {
                try
                {
                    results[k].GetAwaiter().GetResult();
                    acked.Add(start + k);
                }
                catch (Confluent.Kafka.ProduceException<byte[], byte[]> ex)
                {
                    error = $"{ex.Error.Code}: {ex.Error.Reason}";
                }
            }
            if (error.Length > 0) break;
        }
        return acked.Count;
    }

    private static void PublishMqtt(int port, int count)
    {
        // One paho client, QoS 1, waits for every PUBACK: the edge has each message durable.
        var script = $$"""
            import sys, time
            import paho.mqtt.client as mqtt
            c = mqtt.Client(client_id="hierarchy-pub")
            c.connect("127.0.0.1", {{port}})
            c.loop_start()
            infos = []
            for i in range({{count}}):
                infos.append(c.publish("sensors/%d" % (i % 10), "m %d" % i, qos=1))
            deadline = time.time() + 120
            for info in infos:
                info.wait_for_publish(max(0.1, deadline - time.time()))
                if not info.is_published():
                    print("unacknowledged", file=sys.stderr); sys.exit(2)
            c.disconnect(); c.loop_stop()
            print("ok")
            """;
        var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", ["-c", script], timeout: TimeSpan.FromSeconds(180));
        Assert.True(code == 0 && stdout.Contains("ok"), $"paho publisher exited with {code}\n{stdout}\n{stderr}");
    }
}
