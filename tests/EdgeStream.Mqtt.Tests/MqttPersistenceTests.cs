using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Retained messages and persistent sessions survive an agent restart, clean or kill -9:
/// mosquitto clients against a real agent process.
/// </summary>
public sealed class MqttPersistenceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RetainedMessage_SurvivesRestart_AndClearingItSurvivesToo(bool kill)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        Mqtt.Publish(node.MqttPort, "status/door", "open", 1, "-r");
        Mqtt.Publish(node.MqttPort, "status/window", "closed", 1, "-r");

        await node.RestartAsync(kill);

        var seen = Subscribe(node.MqttPort, "status/#", count: 2);
        Assert.Equal(["status/door open", "status/window closed"], seen.Order(StringComparer.Ordinal));

        // An empty retained PUBLISH removes it (MQTT §3.3.1.3), and that is durable as well.
        Mqtt.Publish(node.MqttPort, "status/door", "", 1, "-r");
        await node.RestartAsync(kill);
        Assert.Equal(["status/window closed"], Subscribe(node.MqttPort, "status/#", count: 2, waitSeconds: 3));
    }

    [Theory]
    [InlineData("mqttv311")]
    [InlineData("mqttv5")]
    public async Task PersistentSession_KilledRightAfterPuback_GetsTheMessageAfterRestart(string version)
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var subscriber = Mqtt.ClientId("persist");

        // Subscribe with a persistent session, then go away (mosquitto_sub -c: CleanSession=0 / expiry).
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, version, "plant/+/alarm", count: 1, waitSeconds: 1));

        // mosquitto_pub exits 0 only after the PUBACK: the message is acknowledged as durable...
        Mqtt.Publish(node.MqttPort, "plant/7/alarm", "overheat", 1);
        // ...and the node dies at once, before any periodic checkpoint could help.
        await node.RestartAsync(kill: true);

        var seen = PersistentSubscribe(node.MqttPort, subscriber, version, "plant/+/alarm", count: 1, waitSeconds: 20);
        Assert.Equal(["plant/7/alarm overheat"], seen);

        // Acknowledged by the subscriber now: a clean restart does not send it again.
        await node.RestartAsync(kill: false);
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, version, "plant/+/alarm", count: 1, waitSeconds: 3));
    }

    [Fact]
    public async Task V5SessionCreatedWithCleanStartThenResumed_StaysDurable()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var subscriber = Mqtt.ClientId("v5");
        var port = node.MqttPort.ToString();
        // First CONNECT: Clean Start = 1 with a Session Expiry Interval (a new, persistent session)...
        var (code, _, stderr) = ExternalTool.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", port, "-i", subscriber, "-V", "mqttv5", "-x", "3600",
            "-q", "1", "-t", "fleet/#", "-W", "1"]);
        Assert.True(code is 0 or 27, $"mosquitto_sub exited with {code}: {stderr}");
        // ...then resumed with Clean Start = 0 without subscribing again (MQTTnet keeps the first
        // CONNECT's session items then: they must not make the resume look like a clean start).
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, "mqttv5", null, count: 1, waitSeconds: 1));

        Mqtt.Publish(node.MqttPort, "fleet/truck-9", "parked", 1);
        await node.RestartAsync(kill: true);
        Assert.Equal(["fleet/truck-9 parked"], PersistentSubscribe(node.MqttPort, subscriber, "mqttv5", "fleet/#", count: 1, waitSeconds: 20));
    }

    [Fact]
    public async Task PersistentSession_MessagesPublishedWhileOfflineAcrossSeveralRestarts_AllArriveOnceInOrder()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var subscriber = Mqtt.ClientId("persist");
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, "mqttv311", "line/#", count: 1, waitSeconds: 1));

        var expected = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                var text = $"m{round}-{i}";
                Mqtt.Publish(node.MqttPort, "line/1", text, 1);
                expected.Add("line/1 " + text);
            }
            await node.RestartAsync(kill: round % 2 == 0);
        }

        var seen = PersistentSubscribe(node.MqttPort, subscriber, "mqttv311", "line/#", count: expected.Count, waitSeconds: 20);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task PersistentSession_SessionPresentAfterRestart_AndCleanSessionDiscardsIt()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var subscriber = Mqtt.ClientId("persist");
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, "mqttv311", "cmd/#", count: 1, waitSeconds: 1));
        await node.RestartAsync(kill: true);

        // The restored session is present, and its subscription works without subscribing again:
        // a persistent subscriber that does NOT subscribe still receives.
        var script = $$"""
            import json, sys, time
            import paho.mqtt.client as mqtt
            out = {"present": None, "messages": []}
            c = mqtt.Client(client_id="{{subscriber}}", clean_session=False)
            def on_connect(client, userdata, flags, rc):
                out["present"] = bool(flags.get("session present"))
            c.on_connect = on_connect
            c.on_message = lambda client, userdata, m: out["messages"].append(m.topic + " " + m.payload.decode())
            c.connect("127.0.0.1", {{node.MqttPort}})
            c.loop_start()
            deadline = time.time() + 10
            while out["present"] is None and time.time() < deadline: time.sleep(0.05)
            pub = mqtt.Client(client_id="{{Mqtt.ClientId("pub")}}")
            pub.connect("127.0.0.1", {{node.MqttPort}})
            pub.loop_start()
            pub.publish("cmd/valve", "close", qos=1).wait_for_publish()
            deadline = time.time() + 10
            while not out["messages"] and time.time() < deadline: time.sleep(0.05)
            pub.disconnect(); c.disconnect()
            print(json.dumps(out))
            """;
        var result = RunPython(script);
        Assert.Contains("\"present\": true", result);
        Assert.Contains("cmd/valve close", result);

        // CleanSession=1 with the same id discards the stored session (§3.1.2.4), also across a restart.
        var (code, _, stderr) = ExternalTool.Run("mosquitto_sub", ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-i", subscriber, "-t", "x", "-W", "1"]);
        Assert.True(code is 0 or 27, $"mosquitto_sub exited with {code}: {stderr}");
        await node.RestartAsync(kill: false);
        Mqtt.Publish(node.MqttPort, "cmd/valve", "open", 1);
        Assert.Empty(PersistentSubscribe(node.MqttPort, subscriber, "mqttv311", null, count: 1, waitSeconds: 3));
    }

    [Fact]
    public async Task MappedKafkaRecords_ReachPersistentSubscriberThatWasOfflineDuringARestart()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--mqtt-map", "cmd/#=commands");
        var device = Mqtt.ClientId("device");
        Assert.Empty(PersistentSubscribe(node.MqttPort, device, "mqttv5", "cmd/#", count: 1, waitSeconds: 1));
        await node.RestartAsync(kill: true);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = node.Bootstrap, Acks = Acks.All })
                   .SetLogHandler((_, _) => { }).Build())
        {
            await producer.ProduceAsync("commands", new Message<string, string> { Key = "cmd/pump", Value = "start" });
        }

        Assert.Equal(["cmd/pump start"], PersistentSubscribe(node.MqttPort, device, "mqttv5", "cmd/#", count: 1, waitSeconds: 20));
    }

    private static List<string> Subscribe(int port, string filter, int count, int waitSeconds = 20)
    {
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", port.ToString(), "-i", Mqtt.ClientId("sub"), "-t", filter, "-C", count.ToString(), "-W", waitSeconds.ToString(), "-v"]);
        // 27 = timed out waiting (fewer messages than -C): the caller asserts on what arrived.
        Assert.True(code is 0 or 27, $"mosquitto_sub exited with {code}: {stderr}");
        return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    /// <summary>mosquitto_sub with a persistent session (-c; MQTT 5 adds a session expiry interval), QoS 1.</summary>
    private static List<string> PersistentSubscribe(int port, string clientId, string version, string? filter, int count, int waitSeconds)
    {
        List<string> args = ["-h", "127.0.0.1", "-p", port.ToString(), "-i", clientId, "-c", "-q", "1", "-V", version,
            "-C", count.ToString(), "-W", waitSeconds.ToString(), "-v"];
        if (version == "mqttv5") args.AddRange(["-x", "3600"]);
        // Without -t mosquitto_sub refuses to start; a topic nobody publishes to keeps the session's own subscriptions untouched.
        args.AddRange(["-t", filter ?? "edgestream/tests/nothing"]);
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_sub", [.. args]);
        Assert.True(code is 0 or 27, $"mosquitto_sub exited with {code}: {stderr}");
        return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static string RunPython(string script)
    {
        var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", ["-c", script]);
        Assert.True(code == 0, $"python exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        return stdout;
    }
}
