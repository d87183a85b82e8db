using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>A record of the log as a Kafka consumer saw it.</summary>
public sealed record LogRecord(long Offset, string Key, byte[] Value, IReadOnlyDictionary<string, string> Headers)
{
    public string Text => Encoding.UTF8.GetString(Value);
}

public static class Mqtt
{
    /// <summary>A distinct client id, so each tool run shows up under its own name in the agent's log.</summary>
    public static string ClientId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    public static void Publish(int port, string topic, string message, int qos, params string[] extra)
    {
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", port.ToString(), "-i", ClientId("pub"), "-t", topic, "-m", message, "-q", qos.ToString(), .. extra]);
        Assert.True(code == 0, $"mosquitto_pub exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }

    /// <summary>Reads partition 0 of <paramref name="topic"/> from the start until <paramref name="expected"/> records or the deadline.</summary>
    public static List<LogRecord> ReadLog(string bootstrap, int expected, string topic = "mqtt", TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "edgestream-mqtt-tests",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            FetchWaitMaxMs = 100,
        }).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var seen = new List<LogRecord>();
        var sw = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        while (seen.Count < expected && sw.Elapsed < limit)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null || r.IsPartitionEOF) continue;
            var headers = new Dictionary<string, string>();
            if (r.Message.Headers is { } hs)
                foreach (var h in hs) headers[h.Key] = Encoding.UTF8.GetString(h.GetValueBytes());
            seen.Add(new LogRecord(r.Offset.Value, Encoding.UTF8.GetString(r.Message.Key), r.Message.Value, headers));
        }
        consumer.Close();
        return seen;
    }
}
