using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary><c>--mqtt-map</c> against a real agent: MQTT → mapped log topic, and Kafka → MQTT subscribers.</summary>
public sealed class MqttMapTests
{
    [Fact]
    public async Task MappedFilter_GoesToItsLogTopic_OthersToMqtt()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1",
            "--mqtt-map", "factory/+/telemetry/#=telemetry");

        Mqtt.Publish(node.MqttPort, "factory/a/telemetry/x", "t1", 1);
        Mqtt.Publish(node.MqttPort, "factory/a/status", "s1", 1);

        var telemetry = Assert.Single(Mqtt.ReadLog(node.Bootstrap, 1, "telemetry"));
        Assert.Equal("factory/a/telemetry/x", telemetry.Key);
        Assert.Equal("t1", telemetry.Text);
        Assert.Equal("bridge", telemetry.Headers["mqtt.origin"]);
        var other = Assert.Single(Mqtt.ReadLog(node.Bootstrap, 1, "mqtt"));
        Assert.Equal("factory/a/status", other.Key);
        Assert.Equal("s1", other.Text);
        // Nothing else went to telemetry: both publishes were QoS 1, acknowledged once durable, so
        // everything they appended is below the log's end now.
        Assert.Single(Mqtt.ReadLogToEnd(node.Bootstrap, "telemetry"));
    }

    [Fact]
    public async Task KafkaRecordInMappedTopic_ReachesSubscriberOnce_MqttPublishNotEchoed()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1",
            "--mqtt-map", "cmd/#=commands");

        var sub = await MosquittoSubscriber.StartAsync(node.MqttPort, "cmd/#", "cmd/ping");
        var lines = sub.Lines;
        try
        {
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = node.Bootstrap,
                BrokerAddressFamily = BrokerAddressFamily.V4,
            }).Build();
            await producer.ProduceAsync("commands", new Message<string, string> { Key = "cmd/device-1", Value = "reboot" });
            producer.Flush(TimeSpan.FromSeconds(10));
            Mqtt.Publish(node.MqttPort, "cmd/device-2", "hello", 1);
            // A sentinel after everything else in "commands". The follower reads the partition in
            // order and injects one record at a time (the interceptor, and so any second append,
            // awaited), and MQTTnet delivers to this QoS 1 subscriber in order: once the sentinel is
            // here, a duplicate of the Kafka record or an echo of a bridged PUBLISH (the pings,
            // device-2) would have been injected, appended and delivered before it.
            await producer.ProduceAsync("commands", new Message<string, string> { Key = "cmd/sentinel", Value = "last" });

            Assert.True(await Wait.UntilAsync(() => lines.Contains("cmd/sentinel last"), TimeSpan.FromSeconds(20)),
                $"the sentinel never reached the subscriber; it saw:\n{string.Join('\n', lines)}");
        }
        finally
        {
            await sub.DisposeAsync();
        }

        var seen = lines.ToList();
        var info = $"subscriber saw:\n{string.Join('\n', seen)}\nagent stderr:\n{node.Process.Stderr}";
        Assert.True(seen.Count(l => l == "cmd/device-1 reboot") == 1, info);
        Assert.True(seen.Count(l => l == "cmd/device-2 hello") == 1, info);
        Assert.True(seen.Count == seen.Distinct().Count(), info); // no ping echoed either

        // The injected Kafka record is not appended a second time (such an append would have been
        // durable before the sentinel was injected, so it is below the log's end).
        var log = Mqtt.ReadLogToEnd(node.Bootstrap, "commands");
        Assert.Single(log, r => r.Key == "cmd/device-1");
        Assert.Single(log, r => r.Key == "cmd/device-2");
    }
}
