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
    public static List<LogRecord> ReadLog(string bootstrap, int expected, string topic = "mqtt", TimeSpan? timeout = null) =>
        [.. LogReader.Read(bootstrap, topic, expected, timeout ?? TimeSpan.FromSeconds(30)).Select(ToLogRecord)];

    /// <summary>
    /// Everything <paramref name="topic"/> holds when called (see <see cref="LogReader.ReadToEnd"/>). A
    /// QoS 1 or 2 publisher has its acknowledgement only once the append is durable, so after it
    /// returns this sees what it wrote, and anything else written before it, with no time to wait out.
    /// </summary>
    public static List<LogRecord> ReadLogToEnd(string bootstrap, string topic = "mqtt") =>
        [.. LogReader.ReadToEnd(bootstrap, topic).Select(ToLogRecord)];

    private static LogRecord ToLogRecord(ConsumeResult<byte[], byte[]> r)
    {
        var headers = new Dictionary<string, string>();
        if (r.Message.Headers is { } hs)
            foreach (var h in hs) headers[h.Key] = Encoding.UTF8.GetString(h.GetValueBytes());
        return new LogRecord(r.Offset.Value, Encoding.UTF8.GetString(r.Message.Key), r.Message.Value, headers);
    }
}
