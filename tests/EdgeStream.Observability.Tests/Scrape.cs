using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>One sample of the Prometheus text format: <c>name{labels} value</c>.</summary>
public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Reading a node's <c>/metrics</c> and making it busy the way users do (Kafka, MQTT).</summary>
public static partial class Scrape
{
    public static async Task<string> MetricsTextAsync(AgentNode node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        return await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/metrics");
    }

    public static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"not a sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in LabelPair().Matches(m.Groups["labels"].Value)) labels[l.Groups[1].Value] = l.Groups[2].Value;
            samples.Add(new Sample(m.Groups["name"].Value, labels, ParseValue(m.Groups["value"].Value)));
        }
        return samples;
    }

    /// <summary>The sum of <paramref name="name"/> over the samples whose labels include <paramref name="labels"/> (k=v pairs).</summary>
    public static double Sum(IEnumerable<Sample> samples, string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);

    /// <summary>Produces <paramref name="count"/> records of <paramref name="valueBytes"/> bytes with Confluent.Kafka and waits for every ack.</summary>
    public static void Produce(AgentNode node, string topic, int count, int valueBytes = 100)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = node.Bootstrap,
            Acks = Acks.All,
            LingerMs = 5,
            BrokerAddressFamily = BrokerAddressFamily.V4,
        }).SetLogHandler((_, _) => { }).Build();
        var failed = 0;
        for (var i = 0; i < count; i++)
            producer.Produce(topic, new Message<Null, byte[]> { Value = new byte[valueBytes] }, r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, failed);
    }

    /// <summary>Commits <paramref name="offset"/> for one partition as a tool resetting offsets does (outside group membership).</summary>
    public static void CommitOffset(AgentNode node, string group, string topic, int partition, long offset)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = node.Bootstrap, GroupId = group, EnableAutoCommit = false, BrokerAddressFamily = BrokerAddressFamily.V4,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Commit([new TopicPartitionOffset(topic, partition, offset)]);
    }

    /// <summary>Publishes <paramref name="count"/> QoS 1 messages with mosquitto_pub (one per line of stdin).</summary>
    public static void PublishMqtt(AgentNode node, string topic, int count)
    {
        var lines = string.Join("\n", Enumerable.Range(0, count).Select(i => $"reading {i}")) + "\n";
        var (code, _, stderr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(CultureInfo.InvariantCulture), "-t", topic, "-q", "1", "-l", "-i", "metrics-test"],
            lines, TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"mosquitto_pub failed ({code}): {stderr}");
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
