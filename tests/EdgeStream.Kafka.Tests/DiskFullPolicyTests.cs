using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Kafka.Tests;

/// <summary>
/// A real agent with a small --max-disk: disk.full.policy=block refuses produces with
/// KAFKA_STORAGE_ERROR (MQTT 5: 0x97) and keeps everything acknowledged; drop-oldest deletes the
/// oldest closed segments (lowest uplink.priority first) so producing goes on, and says how much.
/// </summary>
public sealed class DiskFullPolicyTests
{
    // 1000-byte values in 4 KiB segments: three records (one batch each) per segment, ~60 records in 64 KiB.
    private const int ValueSize = 1000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static string[] SmallBudget(params string[] more) =>
        ["--partitions", "1", "--max-disk", "64KiB", "--segment-bytes", "4KiB", "--retention", "forever", .. more];

    private static string Value(string prefix, int i) => $"{prefix}-{i:D5}-".PadRight(ValueSize, 'x');

    // No retries: a refused produce is reported as the broker's error, not hidden behind a retry
    // loop that ends in a local timeout.
    private static IProducer<string, string> Producer(string bootstrap) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            MessageSendMaxRetries = 0,
            MessageTimeoutMs = 10_000,
            LingerMs = 0,
        }).SetLogHandler((_, _) => { }).Build();

    /// <summary>Produces one record at a time (one batch each) until the broker refuses one or <paramref name="max"/> are acknowledged.</summary>
    private static async Task<(List<string> Acked, ProduceException<string, string>? Refused)> ProduceUntilRefusedAsync(
        IProducer<string, string> producer, string topic, string prefix, int max)
    {
        var acked = new List<string>();
        for (var i = 0; i < max; i++)
        {
            var value = Value(prefix, i);
            try
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value });
                acked.Add(value);
            }
            catch (ProduceException<string, string> ex)
            {
                return (acked, ex);
            }
        }
        return (acked, null);
    }

    /// <summary>Reads partition 0 from <paramref name="from"/> (resetting to the earliest offset if it is gone) up to the high watermark.</summary>
    private static List<(long Offset, string Value)> ReadAll(string bootstrap, string topic, long from = 0) =>
        [.. LogReader.ReadToEnd(bootstrap, topic, Deadline, from).Select(r => (r.Offset.Value, Encoding.UTF8.GetString(r.Message.Value)))];

    private static long DroppedRecords(JsonElement status, string topic)
    {
        foreach (var entry in status.GetProperty("drops").EnumerateArray())
            if (entry.GetProperty("topic").GetString() == topic) return entry.GetProperty("records").GetInt64();
        return 0;
    }

    // paho-mqtt 1.6 (Debian): one QoS 1 publish over MQTT 3.1.1; prints what happened first.
    private const string Mqtt311PublishScript = """
        import sys, threading
        import paho.mqtt.client as mqtt
        done = threading.Event()
        outcome = ["timeout"]
        def finish(what):
            if not done.is_set():
                outcome[0] = what
                done.set()
        c = mqtt.Client(client_id="full-311", protocol=mqtt.MQTTv311)
        c.on_connect = lambda cl, u, f, rc: cl.publish("full/v311", "z" * 2000, qos=1)
        c.on_publish = lambda cl, u, mid: finish("acked")
        c.on_disconnect = lambda cl, u, rc: finish("disconnected-without-ack")
        c.connect("127.0.0.1", int(sys.argv[1]))
        c.loop_start()
        done.wait(15)
        c.loop_stop()
        print(outcome[0])
        """;

    [Fact]
    public async Task Produce_BlockPolicyBudgetFull_KafkaStorageErrorAndEveryAcknowledgedRecordReadable()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", SmallBudget());
        const string topic = "block-full";
        using var producer = Producer(node.Bootstrap);

        var (acked, refused) = await ProduceUntilRefusedAsync(producer, topic, "b", max: 500);

        Assert.NotNull(refused);
        Assert.Equal(ErrorCode.KafkaStorageError, refused!.Error.Code);
        Assert.True(acked.Count > 20, $"only {acked.Count} records fit in 64 KiB");
        var records = ReadAll(node.Bootstrap, topic);
        Assert.Equal(acked, records.Select(r => r.Value));
        Assert.Equal(0, records[0].Offset);
        var status = await node.StatusAsync();
        Assert.Equal(0, status.GetProperty("droppedRecords").GetInt64());
        Assert.True(status.GetProperty("usedBytes").GetInt64() <= 64 * 1024);

        // The broker's message (ProduceResponse v8+ error_message) says what is full; our own CLI prints it.
        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path,
            ["produce", topic, "-m", new string('y', 2 * ValueSize), "-b", node.Bootstrap], timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, code);
        Assert.Contains("KAFKA_STORAGE_ERROR", stderr);
        Assert.Contains("disk budget of 65536 bytes", stderr);

        // MQTT 5: PUBACK reason 0x97 quota exceeded; mosquitto_pub prints it by name.
        var (mqttCode, stdout, mqttErr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-V", "mqttv5", "-q", "1", "-t", "full/block", "-m", new string('z', 2 * ValueSize)],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True((stdout + mqttErr).Contains("quota exceeded", StringComparison.OrdinalIgnoreCase),
            $"mosquitto_pub exited with {mqttCode}\nstdout:\n{stdout}\nstderr:\n{mqttErr}");

        // MQTT 3.1.1 has no negative PUBACK: the broker closes the connection without acknowledging.
        var (pyCode, pyOut, pyErr) = ExternalTool.Run("/usr/bin/python3", ["-c", Mqtt311PublishScript, node.MqttPort.ToString()],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(pyOut.Trim() == "disconnected-without-ack", $"python exited with {pyCode}\nstdout:\n{pyOut}\nstderr:\n{pyErr}");

        // Nothing accepted was lost, also after a restart.
        await node.RestartAsync();
        Assert.Equal(acked, ReadAll(node.Bootstrap, topic).Select(r => r.Value));
    }

    [Fact]
    public async Task Produce_DropOldestDefaultBudgetFull_KeepsGoingAndExactlyTheReportedRecordsAreGone()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", SmallBudget("--disk-full-policy", "drop-oldest"));
        const string topic = "drop-full";
        using var producer = Producer(node.Bootstrap);
        const int total = 200; // ~210 KiB through a 64 KiB budget

        var (acked, refused) = await ProduceUntilRefusedAsync(producer, topic, "d", max: total);

        Assert.Null(refused);
        Assert.Equal(total, acked.Count);
        var marks = LogReader.Watermarks(node.Bootstrap, topic);
        Assert.Equal(total, marks.High.Value);
        Assert.True(marks.Low.Value > 0, "the earliest offset did not advance");
        var status = await node.StatusAsync();
        // One partition that started at 0: the log start offset is exactly the records dropped.
        Assert.Equal(marks.Low.Value, status.GetProperty("droppedRecords").GetInt64());
        Assert.Equal(marks.Low.Value, DroppedRecords(status, topic));
        Assert.True(status.GetProperty("droppedSegments").GetInt64() > 0);
        Assert.True(status.GetProperty("usedBytes").GetInt64() <= 64 * 1024);

        // A reader at offset 0 (now dropped) is moved to the earliest offset and sees exactly the rest.
        var records = ReadAll(node.Bootstrap, topic, from: 0);
        Assert.Equal(marks.Low.Value, records[0].Offset);
        Assert.Equal(acked.Skip((int)marks.Low.Value), records.Select(r => r.Value));
        Assert.Contains("disk.full.policy=drop-oldest", node.Process.Stdout + node.Process.Stderr);
    }

    [Fact]
    public async Task Produce_BlockTopicFillsBudget_DropOldestTopicsFromAdminConfigsGiveWayLowestPriorityFirst()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", SmallBudget());
        using var admin = AdminClients.Create(node.Bootstrap);
        const string low = "lossy-low", high = "lossy-high", keep = "keep";
        // Per topic: CreateTopics configs for one, IncrementalAlterConfigs for the other.
        await admin.CreateTopicsAsync(
        [
            new TopicSpecification { Name = low, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["disk.full.policy"] = "drop-oldest", ["uplink.priority"] = "-1" } },
            new TopicSpecification { Name = high, NumPartitions = 1, ReplicationFactor = 1 },
            new TopicSpecification { Name = keep, NumPartitions = 1, ReplicationFactor = 1 },
        ], new CreateTopicsOptions { RequestTimeout = AdminClients.Timeout });
        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [new ConfigResource { Type = ResourceType.Topic, Name = high }] =
            [
                new ConfigEntry { Name = "disk.full.policy", Value = "drop-oldest", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "uplink.priority", Value = "3", IncrementalOperation = AlterConfigOpType.Set },
            ],
        }, new IncrementalAlterConfigsOptions { RequestTimeout = AdminClients.Timeout });
        var described = await admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Topic, Name = low }, new ConfigResource { Type = ResourceType.Topic, Name = high }, new ConfigResource { Type = ResourceType.Topic, Name = keep }],
            new DescribeConfigsOptions { RequestTimeout = AdminClients.Timeout });
        Assert.Equal(("drop-oldest", "-1"), (described[0].Entries["disk.full.policy"].Value, described[0].Entries["uplink.priority"].Value));
        Assert.Equal(("drop-oldest", "3"), (described[1].Entries["disk.full.policy"].Value, described[1].Entries["uplink.priority"].Value));
        Assert.Equal(("block", "0"), (described[2].Entries["disk.full.policy"].Value, described[2].Entries["uplink.priority"].Value));

        using var producer = Producer(node.Bootstrap);
        // 20 records = 7 segments each, 6 of them closed (18 records droppable per topic).
        var (lowAcked, lowRefused) = await ProduceUntilRefusedAsync(producer, low, "l", max: 20);
        var (highAcked, highRefused) = await ProduceUntilRefusedAsync(producer, high, "h", max: 20);
        Assert.Null(lowRefused);
        Assert.Null(highRefused);

        var (keepAcked, keepRefused) = await ProduceUntilRefusedAsync(producer, keep, "k", max: 500);

        // The block topic took the room of both drop-oldest topics, then was refused.
        Assert.NotNull(keepRefused);
        Assert.Equal(ErrorCode.KafkaStorageError, keepRefused!.Error.Code);
        Assert.Equal(keepAcked, ReadAll(node.Bootstrap, keep).Select(r => r.Value));
        var status = await node.StatusAsync();
        Assert.Equal(0, DroppedRecords(status, keep));
        foreach (var (topic, acked) in new[] { (low, lowAcked), (high, highAcked) })
        {
            var marks = LogReader.Watermarks(node.Bootstrap, topic);
            Assert.Equal(18, marks.Low.Value);
            Assert.Equal(marks.Low.Value, DroppedRecords(status, topic));
            Assert.Equal(acked.Skip(18), ReadAll(node.Bootstrap, topic).Select(r => r.Value));
        }

        // uplink.priority -1 gave way first: every drop of it is logged before any of priority 3.
        var log = node.Process.Stdout + node.Process.Stderr;
        var lastLow = log.LastIndexOf($"of {low}-0", StringComparison.Ordinal);
        var firstHigh = log.IndexOf($"of {high}-0", StringComparison.Ordinal);
        Assert.True(lastLow >= 0 && firstHigh > lastLow, $"drop order in the agent log:\n{log}");
    }
}
