using System.Diagnostics;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Connection rules of the own broker core (<c>--mqtt-engine own</c>) that MQTTnet's server does not
/// keep: Server Keep Alive (<c>--mqtt-max-keepalive</c>), outbound topic aliases, and the MQTT 3.1.1
/// CONNECT checks. Raw packets: no client at hand sends these CONNECTs, reads Server Keep Alive, or
/// resolves inbound aliases (libmosquitto, paho 1.6 and MQTTnet's client all lack the latter).
/// </summary>
public sealed class MqttCoreConnectionRulesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task MaxKeepAlive_V5AskingMoreOrNone_ToldServerKeepAliveAndTimedOut_V311KeepsItsOwn()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir, "--mqtt-max-keepalive", "1");
        // Watched over MQTT 3.1.1, whose keep alive the maximum leaves alone: an MQTT 5 watcher would be held
        // to the 1 s maximum too, and need a client that pings that often.
        await using var watcher = await MosquittoSubscriber.StartAsync(node.MqttPort, "mka/#", "mka/ping");

        // MQTT 3.1.1 asking for 60 s: the server cannot change it (no Server Keep Alive in 3.1.1).
        var (v311, connAck311) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, "mka-311");
        using var _ = v311;
        Assert.Equal(0, connAck311.ConnAckCode);

        // MQTT 5 asking for 60 s, and for none (0): both told 1 s, with a will (Clean Start, Will Flag, Will QoS 1).
        var clients = new List<(RawMqttClient Client, Stopwatch SinceConnect)>();
        foreach (var (id, keepAlive) in new[] { ("mka-60", (ushort)60), ("mka-0", (ushort)0) })
        {
            var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
            // Started before the CONNECT leaves: the server cannot start its keep-alive clock earlier, so this is a
            // strict lower bound however late the CONNACK reaches a loaded test machine.
            var sinceConnect = Stopwatch.StartNew();
            await raw.SendAsync(MqttPackets.ConnectWith("MQTT", 5, 0x02 | 0x04 | 0x08, keepAlive, id, ("mka/will", id)));
            var connAck = await raw.ReadPacketAsync(Timeout);
            Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0, $"{id}: CONNACK 0 expected, got {connAck?.First:X2}");
            var properties = connAck!.ConnAck5IntProperties();
            Assert.True(properties.TryGetValue(0x13, out var serverKeepAlive), $"{id}: CONNACK without Server Keep Alive");
            Assert.Equal(1, serverKeepAlive);
            clients.Add((raw, sinceConnect));
        }
        foreach (var (client, sinceConnect) in clients)
        {
            using (client)
            {
                // 1.5 × 1 s, not 1.5 × what the client asked for (90 s for mka-60): closed within Timeout, and not before 1.5 s.
                Assert.True(await client.ReadUntilClosedAsync(Timeout) is not null, "an MQTT 5 client silent past 1.5 × Server Keep Alive was not disconnected");
                Assert.True(sinceConnect.Elapsed >= TimeSpan.FromSeconds(1.5), $"closed {sinceConnect.Elapsed.TotalSeconds:F2} s after the CONNECT, before 1.5 × Server Keep Alive");
            }
        }
        Assert.True(await Wait.UntilAsync(() => watcher.Lines.Contains("mka/will mka-60") && watcher.Lines.Contains("mka/will mka-0"), Timeout),
            $"wills of the timed-out clients not published: [{string.Join(" | ", watcher.Lines)}]");

        // As long silent as the MQTT 5 clients, the 3.1.1 one is still served.
        Assert.True(await v311.SendAsync(MqttPackets.PingReq));
        var pong = await v311.ReadPacketAsync(Timeout);
        Assert.True(pong is { Type: 13 }, $"the MQTT 3.1.1 client was held to --mqtt-max-keepalive (got packet type {pong?.Type})");
    }

    [Fact]
    public async Task TopicAliasMaximum2_AliasesForTheFirstTwoTopics_ReusedWithEmptyTopicName_AllResolve()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir);
        // Topic Alias Maximum (0x22) 2.
        using var aliased = await MqttCoreTests.RawSubscriberAsync(node.MqttPort, "ta-2", "ta/#", MqttPackets.Property2(0x22, 2));
        using var plain = await MqttCoreTests.RawSubscriberAsync(node.MqttPort, "ta-0", "ta/#");
        using var publisher = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "ta-pub");
        string[] topics = ["ta/a", "ta/b", "ta/c", "ta/a", "ta/b", "ta/c", "ta/a"];
        for (var i = 0; i < topics.Length; i++) await MqttCoreTests.PublishAsync(publisher, topics[i], $"m{i}");

        var known = new Dictionary<ushort, string>();
        var resolved = new List<string>();
        var emptyTopicNames = 0;
        for (var i = 0; i < topics.Length; i++)
        {
            var packet = await aliased.ReadPacketAsync(Timeout);
            Assert.True(packet is { Type: 3 }, $"PUBLISH expected, got {packet?.Type}");
            Assert.Equal($"m{i}", packet!.PublishPayload(true));
            var alias = packet.PublishTopicAlias;
            Assert.InRange(alias, 0, 2);
            var topic = packet.PublishTopic;
            if (topic.Length == 0)
            {
                emptyTopicNames++;
                Assert.True(alias != 0 && known.TryGetValue(alias, out topic), $"empty topic name with unknown alias {alias}");
            }
            else if (alias != 0) known[alias] = topic;
            resolved.Add(topic!);
        }
        Assert.Equal(topics, resolved);
        // ta/a and ta/b took the two aliases: their repeats (3) went out as the alias alone.
        Assert.Equal(3, emptyTopicNames);
        Assert.Equal(["ta/a", "ta/b"], known.OrderBy(k => k.Key).Select(k => k.Value));

        // No Topic Alias Maximum in CONNECT: never an alias.
        for (var i = 0; i < topics.Length; i++)
        {
            var packet = await plain.ReadPacketAsync(Timeout);
            Assert.True(packet is { Type: 3 }, $"PUBLISH expected, got {packet?.Type}");
            Assert.Equal(0, packet!.PublishTopicAlias);
            Assert.Equal(topics[i], packet.PublishTopic);
        }
    }

    /// <summary>Sends <paramref name="packet"/> on a new connection; returns what came back before the server closed it.</summary>
    private static async Task<List<MqttPacket>> ClosedAfterAsync(int port, byte[] packet)
    {
        using var raw = await RawMqttClient.ConnectAsync(port);
        await raw.SendAsync(packet);
        var packets = await raw.ReadUntilClosedAsync(Timeout);
        Assert.True(packets is not null, $"connection still open after packet {packet[0]:X2}");
        return packets!;
    }

    [Fact]
    public async Task Connect311Checks_ProtocolFlagsClientIdAndOrder_RefusedPerSpec()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir);
        var port = node.MqttPort;

        // §3.1.2.2 [MQTT-3.1.2-2]: an unsupported protocol name or level gets CONNACK 0x01, then the close.
        foreach (var (name, level) in new[] { ("MQTX", (byte)4), ("MQTT", (byte)3), ("MQTT", (byte)6) })
        {
            var refused = await ClosedAfterAsync(port, MqttPackets.ConnectWith(name, level, 0x02, 60, "proto"));
            var connAck = Assert.Single(refused);
            Assert.Equal((2, 1), (connAck.Type, (int)connAck.ConnAckCode));
        }

        // §3.1.2.3 [MQTT-3.1.2-3]: the reserved connect flag set: closed without a CONNACK.
        Assert.Empty(await ClosedAfterAsync(port, MqttPackets.ConnectWith("MQTT", 4, 0x03, 60, "reserved")));
        // §3.1.2.6 [MQTT-3.1.2-13]: Will QoS without the Will Flag: the same.
        Assert.Empty(await ClosedAfterAsync(port, MqttPackets.ConnectWith("MQTT", 4, 0x0A, 60, "willqos")));

        // §3.1.3.1 [MQTT-3.1.3-8]: an empty client id with CleanSession = 0 gets CONNACK 0x02, then the close.
        var rejected = Assert.Single(await ClosedAfterAsync(port, MqttPackets.Connect311("", cleanSession: false)));
        Assert.Equal((2, 2), (rejected.Type, (int)rejected.ConnAckCode));

        // §3.1 [MQTT-3.1.0-1]: a first packet other than CONNECT closes the connection.
        Assert.Empty(await ClosedAfterAsync(port, MqttPackets.PingReq));

        // §3.1 [MQTT-3.1.0-2]: a second CONNECT closes it too.
        var (twice, connAck0) = await RawMqttClient.ConnectMqttAsync(port, mqtt5: false, "twice");
        using (twice)
        {
            Assert.Equal(0, connAck0.ConnAckCode);
            await twice.SendAsync(MqttPackets.Connect311("twice"));
            Assert.Empty(Assert.IsType<List<MqttPacket>>(await twice.ReadUntilClosedAsync(Timeout)));
        }

        // None of it hurt the listener: a well-formed CONNECT is still accepted.
        var (good, accepted) = await RawMqttClient.ConnectMqttAsync(port, mqtt5: false, "after");
        using (good) Assert.Equal(0, accepted.ConnAckCode);
    }
}
