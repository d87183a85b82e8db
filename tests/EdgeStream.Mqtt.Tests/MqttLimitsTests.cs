using System.Text;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>Hostile and oversized MQTT input against a real agent: only the offending client is closed.</summary>
public sealed class MqttLimitsTests
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The agent is alive and a normal publisher on another connection still gets into the log.</summary>
    private static void AssertStillServes(AgentNode node, string topic = "still/works")
    {
        Assert.False(node.Process.HasExited, $"agent exited.\nstderr:\n{node.Process.Stderr}");
        Mqtt.Publish(node.MqttPort, topic, "ok", 1);
        // The hostile clients are gone and this QoS 1 publish is acknowledged (durable): whatever any
        // of them got into the log is below its end now.
        var records = Mqtt.ReadLogToEnd(node.Bootstrap);
        var record = Assert.Single(records);
        Assert.Equal(topic, record.Key);
        Assert.Equal("ok", record.Text);
    }

    [Fact]
    public async Task MalformedPackets_ConnectionClosed_AgentAndOtherClientsUnaffected()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        // Not MQTT at all ('G' reads as a PUBACK before any CONNECT).
        using (var garbage = await RawMqttClient.ConnectAsync(node.MqttPort))
        {
            await garbage.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            Assert.NotNull(await garbage.ReadUntilClosedAsync(CloseTimeout));
        }

        // A CONNECT whose remaining length has a fifth byte.
        using (var varint = await RawMqttClient.ConnectAsync(node.MqttPort))
        {
            await varint.SendAsync([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
            var packets = await varint.ReadUntilClosedAsync(CloseTimeout);
            Assert.NotNull(packets);
            Assert.Empty(packets);
        }

        // A second CONNECT on an accepted connection (MQTT 3.1.1 [MQTT-3.1.0-2]).
        var (twice, connAck) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "twice");
        using (twice)
        {
            Assert.Equal(0, connAck.ConnAckCode);
            await twice.SendAsync(MqttPackets.Connect311("twice"));
            Assert.NotNull(await twice.ReadUntilClosedAsync(CloseTimeout));
        }

        // Random bytes after a good CONNECT: a reserved packet type 0.
        var (junk, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, "junk");
        using (junk)
        {
            await junk.SendAsync([0x00, 0x03, 1, 2, 3]);
            Assert.NotNull(await junk.ReadUntilClosedAsync(CloseTimeout));
        }

        AssertStillServes(node);
    }

    [Fact]
    public async Task OversizedPublish_RefusedBeforeBuffering_NothingLoggedOthersUnaffected()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--mqtt-max-packet", "64KiB");
        var big = dir.Combine("big.bin");
        await File.WriteAllBytesAsync(big, Encoding.ASCII.GetBytes(new string('x', 100_000)));

        // MQTT 5: CONNACK announces the limit (and Receive Maximum), so mosquitto refuses to send it at all.
        var (v5, connAck) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, "raw5");
        using (v5)
        {
            var properties = connAck.ConnAck5IntProperties();
            Assert.Equal(65536, properties[0x27]); // Maximum Packet Size
            Assert.Equal(100, properties[0x21]);   // Receive Maximum
            // Only the fixed header of a 100 KB PUBLISH: the server decides from it, before the payload.
            await v5.SendAsync(MqttPackets.PublishHeader(100_000));
            var packets = await v5.ReadUntilClosedAsync(CloseTimeout);
            Assert.NotNull(packets);
            var disconnect = Assert.Single(packets, p => p.Type == 14);
            Assert.Equal(0x95, disconnect.DisconnectReason); // Packet too large
        }

        var (v311, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "raw311");
        using (v311)
        {
            await v311.SendAsync(MqttPackets.Publish("big/raw", new byte[100_000], 1, packetId: 1));
            var packets = await v311.ReadUntilClosedAsync(CloseTimeout);
            Assert.NotNull(packets);
            Assert.Empty(packets); // no PUBACK: MQTT 3.1.1 has no reason code, the connection is closed
        }

        // mosquitto_pub under MQTT 5 reads Maximum Packet Size from CONNACK and does not send the message
        // (libmosquitto 2.0 drops it silently and exits 0); the log check below proves nothing got in.
        ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-V", "mqttv5", "-t", "big/v5", "-f", big, "-q", "1"]);

        // paho, MQTT 3.1.1 (no limit announced): the server closes the connection, no PUBACK.
        var (pyCode, pyOut, pyErr) = ExternalTool.Run("/usr/bin/python3", ["-c", PahoPublishScript, node.MqttPort.ToString(), "big/paho", big]);
        Assert.True(pyCode == 0, $"paho script failed ({pyCode}).\nstdout:\n{pyOut}\nstderr:\n{pyErr}");
        Assert.Contains("published=False", pyOut);
        Assert.Contains("disconnected", pyOut);

        AssertStillServes(node);
    }

    // Publishes the file's bytes with QoS 1 under MQTT 3.1.1 and reports whether PUBACK came and whether the server disconnected.
    private const string PahoPublishScript = """
        import sys, time
        import paho.mqtt.client as mqtt
        port, topic, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        state = {"disconnected": False, "connected": False}
        c = mqtt.Client(client_id="paho-big", protocol=mqtt.MQTTv311)
        c.on_connect = lambda cl, u, f, rc: state.__setitem__("connected", rc == 0)
        c.on_disconnect = lambda cl, u, rc: state.__setitem__("disconnected", True)
        c.connect("127.0.0.1", port, 30)
        c.loop_start()
        deadline = time.time() + 10
        while not state["connected"] and time.time() < deadline: time.sleep(0.05)
        info = c.publish(topic, open(path, "rb").read(), qos=1)
        deadline = time.time() + 10
        while not info.is_published() and not state["disconnected"] and time.time() < deadline: time.sleep(0.05)
        c.loop_stop()
        print("connected=%s published=%s %s" % (state["connected"], info.is_published(), "disconnected" if state["disconnected"] else "still-connected"))
        """;

    [Fact]
    public async Task WildcardOrNulInPublishTopic_Refused_NothingLogged()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        var (v311, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "wild311");
        using (v311)
        {
            await v311.SendAsync(MqttPackets.Publish("a/+/b", "bad"u8.ToArray(), 1, packetId: 7));
            var packets = await v311.ReadUntilClosedAsync(CloseTimeout);
            Assert.NotNull(packets);
            Assert.DoesNotContain(packets, p => p.Type == 4); // no PUBACK
        }

        var (v5, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, "wild5");
        using (v5)
        {
            await v5.SendAsync(MqttPackets.Publish("a/#", "bad"u8.ToArray(), 1, packetId: 8, mqtt5: true));
            var packets = await v5.ReadUntilClosedAsync(CloseTimeout);
            Assert.NotNull(packets);
            // 0x90 Topic Name invalid, in the DISCONNECT (and in the PUBACK if one got out first).
            Assert.Contains(packets, p => p.Type == 14 && p.DisconnectReason == 0x90);
            Assert.DoesNotContain(packets, p => p.Type == 4 && (p.Body.Length < 3 || p.Body[2] < 0x80));
        }

        var (nul, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "nul311");
        using (nul)
        {
            await nul.SendAsync(MqttPackets.Publish("a\0b", "bad"u8.ToArray(), 0));
            Assert.NotNull(await nul.ReadUntilClosedAsync(CloseTimeout));
        }

        AssertStillServes(node);
    }

    [Fact]
    public async Task Qos2FloodWithoutPubRel_OnlyThatClientDisconnected()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--mqtt-max-inflight", "10");

        // A well-behaved QoS 2 client that releases each message stays connected past the limit.
        var (good, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "good");
        using (good)
        {
            for (ushort id = 1; id <= 25; id++)
            {
                await good.SendAsync(MqttPackets.Publish("qos2/good", "g"u8.ToArray(), 2, id));
                var pubRec = await good.ReadPacketAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(5, pubRec?.Type);
                await good.SendAsync(MqttPackets.PubRel(id));
                var pubComp = await good.ReadPacketAsync(TimeSpan.FromSeconds(10));
                Assert.Equal(7, pubComp?.Type);
            }
        }

        foreach (var mqtt5 in new[] { true, false })
        {
            var (flood, connAck) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5, mqtt5 ? "flood5" : "flood311");
            using (flood)
            {
                if (mqtt5) Assert.Equal(10, connAck.ConnAck5IntProperties()[0x21]);
                for (ushort id = 1; id <= 30; id++)
                {
                    if (!await flood.SendAsync(MqttPackets.Publish("qos2/flood", "f"u8.ToArray(), 2, id, mqtt5))) break;
                }
                var packets = await flood.ReadUntilClosedAsync(CloseTimeout);
                Assert.NotNull(packets);
                Assert.True(packets.Count(p => p.Type == 5) <= 11, $"{packets.Count(p => p.Type == 5)} PUBRECs");
                if (mqtt5) Assert.Contains(packets, p => p.Type == 14 && p.DisconnectReason == 0x93); // Receive Maximum exceeded
            }
        }

        Assert.False(node.Process.HasExited);
        Mqtt.Publish(node.MqttPort, "still/works", "ok", 1);
        // Acknowledged publishes are durable: reading to the log's end sees every one of them.
        var records = Mqtt.ReadLogToEnd(node.Bootstrap);
        Assert.Contains(records, r => r.Key == "still/works");
        Assert.Equal(25, records.Count(r => r.Key == "qos2/good"));
    }

    [Fact]
    public async Task MaxConnections_FourthClientRefusedWithQuotaOrServerUnavailable_FreedSlotReused()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1", "--mqtt-max-connections", "3");

        var held = new List<RawMqttClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (client, connAck) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: i % 2 == 0, $"held-{i}");
                held.Add(client);
                Assert.Equal(0, connAck.ConnAckCode);
            }

            var (v5, refused5) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, "fourth5");
            using (v5) Assert.Equal(0x97, refused5.ConnAckCode); // Quota exceeded
            var (v311, refused311) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "fourth311");
            using (v311) Assert.Equal(3, refused311.ConnAckCode); // Server unavailable

            // A closed connection frees its slot (the server notices the close a moment later).
            held[0].Dispose();
            held.RemoveAt(0);
            var attempt = 0;
            var accepted = await Wait.UntilAsync(async () =>
            {
                var (again, connAck) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, $"again-{attempt++}");
                if (connAck.ConnAckCode == 0)
                {
                    held.Add(again);
                    return true;
                }
                again.Dispose();
                return false;
            }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
            Assert.True(accepted, "the freed connection slot was never reused");
        }
        finally
        {
            foreach (var c in held) c.Dispose();
        }
    }

    [Fact]
    public async Task MosquittoPubWithoutClientId_Mqtt311_AssignedIdAndLogged()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");

        // No -i: mosquitto_pub sends an empty client id with CleanSession = 1 (MQTT 3.1.1 §3.1.3.1).
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-V", "mqttv311", "-t", "noid/topic", "-m", "anonymous", "-q", "1"]);
        Assert.True(code == 0, $"mosquitto_pub exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}\nagent:\n{node.Process.Stderr}");
        var record = Assert.Single(Mqtt.ReadLog(node.Bootstrap, 1));
        Assert.Equal("noid/topic", record.Key);
        Assert.Equal("anonymous", record.Text);

        // An empty id asking for a persistent session is still refused (MQTT 3.1.1 [MQTT-3.1.3-8]):
        // MQTTnet 5.2 closes the connection without the CONNACK 0x02 the spec asks for.
        using var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
        await raw.SendAsync(MqttPackets.Connect311("", cleanSession: false));
        var packets = await raw.ReadUntilClosedAsync(CloseTimeout);
        Assert.NotNull(packets);
        Assert.DoesNotContain(packets, p => p.Type == 2 && p.ConnAckCode == 0);
        Assert.All(packets, p => Assert.Equal(2, p.ConnAckCode));
    }
}
