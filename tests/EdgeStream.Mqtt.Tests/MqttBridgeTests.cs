using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>The MQTT listener of a real agent: mosquitto clients in, the log topic <c>mqtt</c> out over Kafka.</summary>
public sealed class MqttBridgeTests
{
    [Fact]
    public async Task MosquittoPub_EveryQos_LandsInMqttTopicWithKeyValueAndQosHeader()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        Mqtt.Publish(node.MqttPort, "factory/line1/temp", "q0", 0);
        Mqtt.Publish(node.MqttPort, "factory/line1/temp", "q1", 1);
        Mqtt.Publish(node.MqttPort, "factory/line2/pressure", "q2", 2);

        // Three mosquitto_pub processes, three connections: MQTT orders messages per connection only
        // (a QoS 0 sender exits before its message is handled), so compare in payload order.
        var records = Mqtt.ReadLog(node.Bootstrap, 3).OrderBy(r => r.Text, StringComparer.Ordinal).ToList();
        Assert.True(records.Count == 3, $"saw {records.Count} records.\nagent stderr:\n{node.Process.Stderr}");
        Assert.Equal(["q0", "q1", "q2"], records.Select(r => r.Text));
        Assert.Equal(["factory/line1/temp", "factory/line1/temp", "factory/line2/pressure"], records.Select(r => r.Key));
        Assert.Equal(["0", "1", "2"], records.Select(r => r.Headers["mqtt.qos"]));
        Assert.All(records, r => Assert.Equal("false", r.Headers["mqtt.retain"]));
    }

    [Fact]
    public async Task MosquittoPubV5_ContentTypeAndUserProperties_BecomeHeaders()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        Mqtt.Publish(node.MqttPort, "sensors/a", "{\"t\":21.5}", 1, "-V", "mqttv5", "-r",
            "-D", "publish", "content-type", "application/json",
            "-D", "publish", "user-property", "site", "plant-7");

        var record = Assert.Single(Mqtt.ReadLog(node.Bootstrap, 1));
        Assert.Equal("sensors/a", record.Key);
        Assert.Equal("{\"t\":21.5}", record.Text);
        Assert.Equal("1", record.Headers["mqtt.qos"]);
        Assert.Equal("true", record.Headers["mqtt.retain"]);
        Assert.Equal("application/json", record.Headers["mqtt.content-type"]);
        Assert.Equal("plant-7", record.Headers["site"]);
    }

    [Fact]
    public async Task MosquittoSub_GetsLivePublishAndRetainedMessageAsLateSubscriber()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var port = node.MqttPort.ToString();

        // Retained before anyone subscribed: a late subscriber still gets it.
        Mqtt.Publish(node.MqttPort, "status/door", "open", 1, "-r");
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-i", Mqtt.ClientId("sub"), "-t", "status/#", "-C", "1", "-W", "20", "-v"]);
        Assert.True(code == 0, $"mosquitto_sub exited with {code}: {stderr}");
        Assert.Equal("status/door open", stdout.Trim());

        // Live delivery: publish until the subscriber (which may still be subscribing) has its message.
        using var sub = ExternalTool.Start("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-i", Mqtt.ClientId("sub"), "-t", "chat/+", "-C", "1", "-W", "20", "-q", "1"]);
        Assert.True(await Wait.UntilAsync(() =>
        {
            if (sub.HasExited) return true;
            Mqtt.Publish(node.MqttPort, "chat/room1", "hello", 1);
            return false;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200)), "mosquitto_sub got nothing");
        Assert.Equal(0, sub.ExitCode);
        Assert.Equal("hello", (await sub.StandardOutput.ReadToEndAsync()).Trim());
    }

    [Fact]
    public async Task Qos1Acknowledged_ThenKill9_RecordSurvivesRestart()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        // mosquitto_pub -q 1 returns after the PUBACK, which the bridge sends only once the append is durable.
        Mqtt.Publish(node.MqttPort, "crash/test", "must-survive", 1);
        await node.RestartAsync(kill: true);

        var record = Assert.Single(Mqtt.ReadLog(node.Bootstrap, 1));
        Assert.Equal("crash/test", record.Key);
        Assert.Equal("must-survive", record.Text);
    }
}

/// <summary>A full disk budget: MQTT 5 publishers get a failure reason code, nothing lands in the log.</summary>
public sealed class MqttDiskFullTests
{
    [Fact]
    public async Task Qos1Publish_DiskBudgetFull_Mqtt5GetsQuotaExceededAndNothingIsLogged()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--max-disk", "1");

        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-V", "mqttv5", "-t", "full/disk", "-m", "refused", "-q", "1"]);

        // mosquitto_pub reports a PUBACK reason code >= 0x80 by name: 0x97 is "Quota exceeded".
        Assert.True((stdout + stderr).Contains("quota exceeded", StringComparison.OrdinalIgnoreCase),
            $"mosquitto_pub exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        // The refusal came back as the PUBACK, after the append failed: had anything been appended
        // it would be below the log's end by now.
        Assert.Empty(Mqtt.ReadLogToEnd(node.Bootstrap));
    }
}
