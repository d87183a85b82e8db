using System.Net;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary><c>GET /metrics</c> of a node made busy by real Kafka and MQTT clients.</summary>
public sealed class MetricsTests
{
    private const int KafkaRecords = 500;
    private const int ValueBytes = 100;
    private const int MqttMessages = 40;

    [Fact]
    public async Task BusyNode_MetricsPassPromtool_AndCountWhatWasProduced()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "3");
        var topic = Unique.Name("metrics");

        Scrape.Produce(node, topic, KafkaRecords, ValueBytes);
        Scrape.PublishMqtt(node, "sensors/room1", MqttMessages);

        // Counters are recorded once an append is durable, before the ack: by now they are final.
        var text = await Scrape.MetricsTextAsync(node);
        var (code, stdout, stderr) = ExternalTool.Run("promtool", ["check", "metrics"], text, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"promtool check metrics failed ({code}):\n{stdout}\n{stderr}\n--- /metrics ---\n{text}");

        var samples = Scrape.Parse(text);
        Assert.Equal(KafkaRecords, Scrape.Sum(samples, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.Equal(MqttMessages, Scrape.Sum(samples, "edgestream_topic_in_records_total", ("topic", "mqtt")));
        Assert.Equal(MqttMessages, Scrape.Sum(samples, "edgestream_mqtt_messages_in_total", ("qos", "1")));
        // Each partition's end offset: the three of the topic add up to what was produced.
        Assert.Equal(KafkaRecords, Scrape.Sum(samples, "edgestream_partition_log_end_offset", ("topic", topic)));
        Assert.Equal(3, samples.Count(s => s.Name == "edgestream_partition_log_end_offset" && s.Labels["topic"] == topic));
        // Bytes in are whole record batches: more than the values alone, and equal to what the partitions hold.
        var bytesIn = Scrape.Sum(samples, "edgestream_topic_in_bytes_total", ("topic", topic));
        Assert.True(bytesIn > KafkaRecords * ValueBytes, $"bytes in {bytesIn}");
        Assert.Equal(bytesIn, Scrape.Sum(samples, "edgestream_partition_size_bytes", ("topic", topic)));
        Assert.True(Scrape.Sum(samples, "edgestream_kafka_requests_total", ("api", "Produce"), ("error_code", "0")) >= 1);
        Assert.True(Scrape.Sum(samples, "edgestream_kafka_request_duration_seconds_count", ("api", "Produce")) >= 1);
        Assert.True(Scrape.Sum(samples, "edgestream_storage_fsync_duration_seconds_count") >= 1);
        Assert.True(Scrape.Sum(samples, "edgestream_disk_used_bytes") >= bytesIn);
        Assert.Contains(samples, s => s.Name.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "dotnet_process_memory_working_set_bytes" && s.Value > 0);
    }

    [Fact]
    public async Task MqttQueued_CountsWhatWaitsForAnAbsentPersistentSubscriber_AndMessagesOutWhatItThenGets()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge");
        var client = Unique.Name("away");
        // A persistent session (clean session off) subscribed at QoS 1, then gone: -E exits once the SUBACK is in.
        var (code, _, stderr) = ExternalTool.Run("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", client, "-c", "-q", "1", "-t", "plant/queued", "-E"],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"mosquitto_sub -E failed ({code}): {stderr}");

        Scrape.PublishMqtt(node, "plant/queued", 7);
        List<Sample> samples = [];
        Assert.True(await Wait.UntilAsync(async () =>
            {
                samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
                return Scrape.Sum(samples, "edgestream_mqtt_queued") == 7;
            }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)),
            $"queued: {Scrape.Sum(samples, "edgestream_mqtt_queued")}, expected the 7 messages published while the subscriber was away");

        // The subscriber comes back for its session: the 7 go out, and nothing waits any more.
        (code, var received, stderr) = ExternalTool.Run("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", client, "-c", "-q", "1", "-t", "plant/queued", "-C", "7"],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"mosquitto_sub -C 7 failed ({code}): {stderr}");
        Assert.Equal(7, received.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(await Wait.UntilAsync(async () =>
            {
                samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
                return Scrape.Sum(samples, "edgestream_mqtt_queued") == 0;
            }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)), $"still queued: {Scrape.Sum(samples, "edgestream_mqtt_queued")}");
        Assert.Equal(7, Scrape.Sum(samples, "edgestream_mqtt_messages_out_total"));
        Assert.Equal(0, Scrape.Sum(samples, "edgestream_mqtt_messages_dropped_total"));
    }

    [Fact]
    public async Task Connections_AreCountedPerListener_WhileOpen()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge");
        var port = node.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<Sample> samples = [];
        using (var kafka = new System.Net.Sockets.TcpClient())
        {
            await kafka.ConnectAsync("127.0.0.1", node.KafkaPort);
            Assert.True(await Wait.UntilAsync(async () =>
                {
                    samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
                    return Scrape.Sum(samples, "edgestream_kafka_connections") == 1;
                }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), $"Kafka connections: {Scrape.Sum(samples, "edgestream_kafka_connections")}");
            // The scrape's own connection is open on the HTTP listener while /metrics is written.
            Assert.True(Scrape.Sum(samples, "kestrel_active_connections", ("server_port", port)) >= 1,
                string.Join("\n", samples.Where(s => s.Name == "kestrel_active_connections").Select(s => string.Join(",", s.Labels) + " " + s.Value)));
        }
        Assert.True(await Wait.UntilAsync(async () =>
            {
                samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
                return Scrape.Sum(samples, "edgestream_kafka_connections") == 0;
            }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), $"Kafka connections after close: {Scrape.Sum(samples, "edgestream_kafka_connections")}");
    }

    [Fact]
    public async Task DropOldest_DroppedCountIsExactlyTheRecordsGone()
    {
        using var dir = new TempDirectory();
        // 1000-byte records one batch each in 4 KiB segments: ~60 fit in 64 KiB, so 200 push the oldest out.
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge",
            "--partitions", "1", "--max-disk", "64KiB", "--segment-bytes", "4KiB", "--retention", "forever", "--disk-full-policy", "drop-oldest");
        var topic = Unique.Name("dropped");
        using (var producer = new Confluent.Kafka.ProducerBuilder<Confluent.Kafka.Null, byte[]>(new Confluent.Kafka.ProducerConfig
            { BootstrapServers = node.Bootstrap, Acks = Confluent.Kafka.Acks.All, BrokerAddressFamily = Confluent.Kafka.BrokerAddressFamily.V4 })
            .SetLogHandler((_, _) => { }).Build())
        {
            for (var i = 0; i < 200; i++) await producer.ProduceAsync(topic, new Confluent.Kafka.Message<Confluent.Kafka.Null, byte[]> { Value = new byte[1000] });
        }

        var samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
        // One partition that started at 0: its earliest offset is the number of records dropped.
        var gone = LogReader.Watermarks(node.Bootstrap, topic).Low.Value;
        Assert.True(gone > 0, "nothing was dropped");
        Assert.Equal(gone, Scrape.Sum(samples, "edgestream_disk_dropped_records_total", ("topic", topic)));
        Assert.True(Scrape.Sum(samples, "edgestream_disk_dropped_bytes_total", ("topic", topic)) >= gone * 1000);
        Assert.Equal(200, Scrape.Sum(samples, "edgestream_topic_in_records_total", ("topic", topic)));
        Assert.Equal(64 * 1024, Scrape.Sum(samples, "edgestream_disk_budget_bytes"));
        Assert.True(Scrape.Sum(samples, "edgestream_disk_used_bytes") <= 64 * 1024);
    }

    [Fact]
    public async Task PerTopicLabels_AreCapped()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--metrics-max-topics", "2");
        var prefix = Unique.Name("capped") + "-";
        for (var i = 0; i < 5; i++) Scrape.Produce(node, prefix + i, 10);

        var samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
        var labelled = samples.Where(s => s.Name == "edgestream_topic_in_records_total").Select(s => s.Labels["topic"]).Distinct().ToList();
        Assert.Equal(3, labelled.Count); // two topics and "_other"
        Assert.Equal(30, Scrape.Sum(samples, "edgestream_topic_in_records_total", ("topic", "_other")));
        Assert.Equal(50, Scrape.Sum(samples, "edgestream_topic_in_records_total"));
    }

    [Fact]
    public async Task Readyz_WaitsForTheParent()
    {
        using var dir = new TempDirectory();
        var cloud = AgentNode.Prepare(dir.Combine("cloud"), "cloud");
        await using var cloudOwner = cloud;
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--parent", $"127.0.0.1:{cloud.UplinkPort}", "--uplink-max-backoff", "500ms");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };

        var notReady = await http.GetAsync($"http://127.0.0.1:{edge.HttpPort}/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("parent", await notReady.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{edge.HttpPort}/healthz")).StatusCode);

        await cloud.RestartAsync();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{cloud.HttpPort}/readyz")).StatusCode);
        // The edge connects once it has something to say or its next attempt comes round.
        Scrape.Produce(edge, Unique.Name("ready"), 1);
        Assert.True(await Wait.UntilAsync(async () => (await http.GetAsync($"http://127.0.0.1:{edge.HttpPort}/readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)), "the edge never became ready after its parent started");

        // The uplink's figures once records reach the parent: zero-filled values compress, so the link carries fewer bytes than the frames hold.
        var topic = Unique.Name("uplinked");
        Scrape.Produce(edge, topic, 200, 1000);
        List<Sample> samples = [];
        Assert.True(await Wait.UntilAsync(async () =>
            {
                samples = Scrape.Parse(await Scrape.MetricsTextAsync(edge));
                return Scrape.Sum(samples, "edgestream_uplink_acked_records_total") >= 201 && Scrape.Sum(samples, "edgestream_uplink_lag_records", ("topic", topic)) == 0;
            }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)), "the parent never acknowledged the records: " + string.Join("\n", samples.Where(s => s.Name.StartsWith("edgestream_uplink", StringComparison.Ordinal))));
        var sent = Scrape.Sum(samples, "edgestream_uplink_sent_bytes_total");
        var raw = Scrape.Sum(samples, "edgestream_uplink_sent_raw_bytes_total");
        Assert.True(raw > 200 * 1000 && sent > 0 && sent < raw / 5, $"sent {sent} B, before compression {raw} B");
        Assert.Equal(raw / sent, Scrape.Sum(samples, "edgestream_uplink_compression_ratio"), 3);
        Assert.Equal(1, Scrape.Sum(samples, "edgestream_uplink_connected", ("parent", $"127.0.0.1:{cloud.UplinkPort}")));
    }

    [Fact]
    public async Task ConsumerGroupLag_IsTheDistanceFromTheCommittedOffset_AndFilesFiguresAppearWithAReceiver()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--files-dir", dir.Combine("files"));
        var topic = Unique.Name("lag");
        var group = Unique.Name("lagging");
        Scrape.Produce(node, topic, 100);

        // A commit from outside group membership (generation -1), as tools that reset offsets make.
        Scrape.CommitOffset(node, group, topic, 0, 40);

        var samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
        Assert.Equal(60, Scrape.Sum(samples, "edgestream_kafka_group_lag_records", ("group", group), ("topic", topic)));

        Scrape.Produce(node, topic, 10);
        samples = Scrape.Parse(await Scrape.MetricsTextAsync(node));
        Assert.Equal(70, Scrape.Sum(samples, "edgestream_kafka_group_lag_records", ("group", group), ("topic", topic)));

        // The same figures in /v1/topics, the dashboard's topics and groups views.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        using var view = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/topics"));
        var topicEntry = view.RootElement.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("name").GetString() == topic);
        Assert.Equal(110, topicEntry.GetProperty("records").GetInt64());
        Assert.Equal(1, topicEntry.GetProperty("partitions").GetInt32());
        var groupEntry = view.RootElement.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("groupId").GetString() == group);
        Assert.Equal("Empty", groupEntry.GetProperty("state").GetString());
        Assert.Equal(70, groupEntry.GetProperty("lag").GetInt64());
        Assert.Equal(70, groupEntry.GetProperty("topics")[0].GetProperty("lag").GetInt64());

        // The receiver's figures are there from the start (0), so a dashboard can tell "idle" from "absent".
        Assert.Contains(samples, s => s.Name == "edgestream_files_in_flight" && s.Value == 0);
        Assert.Contains(samples, s => s.Name == "edgestream_files_completed_total" && s.Value == 0);
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("edgestream_cdc_", StringComparison.Ordinal) && s.Name != "edgestream_cdc_sources");
    }
}
