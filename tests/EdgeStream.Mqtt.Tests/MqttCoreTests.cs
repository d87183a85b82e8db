using System.Collections.Concurrent;
using System.Text;
using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// The MQTT 5 rules of the own broker core (<c>--mqtt-engine own</c>, issue 16) that MQTTnet's server
/// does not keep: each test sets the option with a real client (raw packets where no client exposes it).
/// </summary>
public sealed class MqttCoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    internal static Task<AgentNode> StartOwnAsync(TempDirectory dir, params string[] extra) =>
        AgentNode.StartAsync(dir.Combine("data"), "edge", ["--partitions", "1", "--mqtt-engine", "own", .. extra]);

    internal static async Task<IMqttClient> ConnectClientAsync(int port, string clientId)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId).WithTimeout(TimeSpan.FromSeconds(10)).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    internal static async Task PublishAsync(IMqttClient client, string topic, string payload) =>
        await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>A raw MQTT 5 client that connected with <paramref name="properties"/> and subscribed to <paramref name="filter"/> at QoS 1.</summary>
    internal static async Task<RawMqttClient> RawSubscriberAsync(int port, string clientId, string filter, params byte[][] properties)
    {
        var raw = await RawMqttClient.ConnectAsync(port);
        await raw.SendAsync(MqttPackets.Connect5(clientId, cleanStart: true, properties));
        var connAck = await raw.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0, $"CONNACK expected, got {connAck?.First:X2}");
        await raw.SendAsync(MqttPackets.Subscribe(1, filter, 1, mqtt5: true));
        var subAck = await raw.ReadPacketAsync(Timeout);
        Assert.True(subAck is { Type: 9 } && subAck.Body[^1] == 1, "SUBACK granting QoS 1 expected");
        return raw;
    }

    [Fact]
    public async Task ReceiveMaximum2_NeverMoreThanTwoUnacknowledged_NextOnlyAfterAck()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        using var subscriber = await RawSubscriberAsync(node.MqttPort, "rm2-sub", "rm/t", MqttPackets.Property2(0x21, 2));
        using var publisher = await ConnectClientAsync(node.MqttPort, "rm2-pub");
        for (var i = 0; i < 10; i++) await PublishAsync(publisher, "rm/t", $"m{i}");

        // Two arrive; the other eight were PUBACKed to the publisher (so routed), and none comes while both are unacknowledged.
        var first = await subscriber.ReadPacketAsync(Timeout);
        var second = await subscriber.ReadPacketAsync(Timeout);
        Assert.True(first is { Type: 3 } && second is { Type: 3 }, "two PUBLISHes expected");
        // The positive sign that the broker had the chance to send a third: a PINGRESP written after everything routed so far.
        await subscriber.SendAsync(MqttPackets.PingReq);
        var next = await subscriber.ReadPacketAsync(Timeout);
        Assert.True(next is { Type: 13 }, $"a third PUBLISH went out with two unacknowledged (got packet type {next?.Type})");

        // Every acknowledgement lets exactly one more through, in order.
        var received = new List<string> { first!.PublishPayload(true), second!.PublishPayload(true) };
        var unacked = new Queue<ushort>([first.PublishPacketId, second.PublishPacketId]);
        while (received.Count < 10)
        {
            await subscriber.SendAsync(MqttPackets.PubAck(unacked.Dequeue()));
            var publish = await subscriber.ReadPacketAsync(Timeout);
            Assert.True(publish is { Type: 3 }, $"PUBLISH expected after an ack, got {publish?.Type}");
            received.Add(publish!.PublishPayload(true));
            unacked.Enqueue(publish.PublishPacketId);
            Assert.True(unacked.Count <= 2);
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), received);
    }

    [Fact]
    public async Task MaximumPacketSize64_LargerPublishNotSent_SmallerOnesAre()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        using var subscriber = await RawSubscriberAsync(node.MqttPort, "mps-sub", "mps/t", MqttPackets.Property4(0x27, 64));
        using var publisher = await ConnectClientAsync(node.MqttPort, "mps-pub");
        await PublishAsync(publisher, "mps/t", "small-1");
        await PublishAsync(publisher, "mps/t", new string('x', 200));
        await PublishAsync(publisher, "mps/t", "small-2");

        var payloads = new List<string>();
        while (payloads.Count < 2)
        {
            var packet = await subscriber.ReadPacketAsync(Timeout);
            Assert.True(packet is { Type: 3 }, $"PUBLISH expected, got {packet?.Type}");
            Assert.True(packet!.WireSize <= 64, $"a {packet.WireSize}-byte packet was sent to a client whose Maximum Packet Size is 64");
            payloads.Add(packet.PublishPayload(true));
            await subscriber.SendAsync(MqttPackets.PubAck(packet.PublishPacketId));
        }
        // small-2 was published after the large one: it arriving next means the large one was dropped, not delayed.
        Assert.Equal(["small-1", "small-2"], payloads);
        // The large message is in the log all the same: only this client's copy was dropped.
        Assert.Equal(3, Mqtt.ReadLog(node.Bootstrap, 3).Count);
    }

    [Fact]
    public async Task SharedSubscription_ThreeMembers_SpreadAndNoneLostWhenOneLeaves()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        var received = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        var members = new List<IMqttClient>();
        foreach (var name in new[] { "share-a", "share-b" })
        {
            var bag = received.GetOrAdd(name, _ => []);
            var client = await ConnectClientAsync(node.MqttPort, name);
            client.ApplicationMessageReceivedAsync += e =>
            {
                bag.Add(e.ApplicationMessage.ConvertPayloadToString());
                return Task.CompletedTask;
            };
            var sub = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("$share/g/t", MqttQualityOfServiceLevel.AtLeastOnce).Build());
            Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, Assert.Single(sub.Items).ResultCode);
            members.Add(client);
        }
        // The third member never acknowledges: what it holds when it leaves must go to the others.
        var leaver = await RawSubscriberAsync(node.MqttPort, "share-c", "$share/g/t", MqttPackets.Property2(0x21, 5));
        using var publisher = await ConnectClientAsync(node.MqttPort, "share-pub");
        const int Count = 30;
        for (var i = 0; i < Count; i++) await PublishAsync(publisher, "t", $"m{i}");

        var held = new List<string>();
        var (done, _) = await Wait.UntilAsync(async () =>
        {
            var packet = await leaver.ReadPacketAsync(TimeSpan.FromMilliseconds(200));
            if (packet is { Type: 3 }) held.Add(packet.PublishPayload(true));
            return held.Count;
        }, n => n >= 5, Timeout);
        Assert.True(done, $"the third member got {held.Count} messages, expected its window of 5");
        Assert.True(await Wait.UntilAsync(() => received.Values.Sum(b => b.Count) + held.Count >= Count, Timeout));
        Assert.All(received.Values, bag => Assert.NotEmpty(bag));

        leaver.Dispose();
        Assert.True(await Wait.UntilAsync(() => received.Values.Sum(b => b.Count) >= Count, Timeout),
            $"after the third member left, the others have {received.Values.Sum(b => b.Count)} of {Count}");
        var all = received.Values.SelectMany(b => b).ToHashSet();
        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"m{i}").ToHashSet(), all);
        foreach (var m in members) m.Dispose();
    }

    [Fact]
    public async Task PahoSharedSubscription_EachMessageToExactlyOneMember()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        PahoClientTests.AssertSharedScenario(PahoClientTests.RunScenario(node, "shared"));
    }

    [Fact]
    public async Task TopicAliasZero_DisconnectWith0x94()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        using var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
        await raw.SendAsync(MqttPackets.Connect5("alias0", cleanStart: true));
        Assert.True(await raw.ReadPacketAsync(Timeout) is { Type: 2 });
        await raw.SendAsync(MqttPackets.Publish5("alias/t", Encoding.UTF8.GetBytes("x"), 1, 7, MqttPackets.Property2(0x23, 0)));
        var packets = await raw.ReadUntilClosedAsync(Timeout);
        Assert.NotNull(packets);
        var disconnect = Assert.Single(packets, p => p.Type == 14);
        Assert.Equal(0x94, disconnect.DisconnectReason);
        // Refused, not acknowledged and not logged.
        Assert.DoesNotContain(packets, p => p.Type == 4);
    }

    [Fact]
    public async Task SessionExpiryRaisedAtDisconnect_SessionKeptPastTheConnectInterval()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        // Both connect with a 1 s session; "raised" sets 600 s on its DISCONNECT, "control" does not.
        foreach (var id in new[] { "raised", "control" })
        {
            using var raw = await RawSubscriberAsync(node.MqttPort, id, "exp/t", MqttPackets.Property4(0x11, 1));
            await raw.SendAsync(id == "raised" ? MqttPackets.Disconnect5(0, MqttPackets.Property4(0x11, 600)) : MqttPackets.Disconnect5(0));
            Assert.NotNull(await raw.ReadUntilClosedAsync(Timeout));
        }
        using (var publisher = await ConnectClientAsync(node.MqttPort, "exp-pub")) await PublishAsync(publisher, "exp/t", "kept");
        // The positive sign that the 1 s interval has passed: the control session expired.
        Assert.True(await Wait.UntilAsync(() => node.Process.Stdout.Contains("session control expired"), Timeout),
            $"control session never expired.\n{node.Process.Stdout}");

        using var again = await RawMqttClient.ConnectAsync(node.MqttPort);
        await again.SendAsync(MqttPackets.Connect5("raised", cleanStart: false, MqttPackets.Property4(0x11, 600)));
        var connAck = await again.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0);
        Assert.Equal(1, connAck!.Body[0] & 1); // session present
        var publish = await again.ReadPacketAsync(Timeout);
        Assert.True(publish is { Type: 3 }, "the message queued for the kept session was not delivered");
        Assert.Equal("kept", publish!.PublishPayload(true));
    }

    [Fact]
    public async Task SessionExpirySetAtDisconnectFromZero_ProtocolError0x82()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        using var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
        await raw.SendAsync(MqttPackets.Connect5("zero-expiry", cleanStart: true));
        Assert.True(await raw.ReadPacketAsync(Timeout) is { Type: 2 });
        await raw.SendAsync(MqttPackets.Disconnect5(0, MqttPackets.Property4(0x11, 60)));
        var packets = await raw.ReadUntilClosedAsync(Timeout);
        Assert.NotNull(packets);
        Assert.Equal(0x82, Assert.Single(packets, p => p.Type == 14).DisconnectReason);
    }

    [Fact]
    public async Task SessionExpiryLoweredToZeroAtDisconnect_SessionEndsWithTheConnection()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        // Connected with a 600 s session; its DISCONNECT sets 0 (§3.14.2.2.2: the session ends now).
        using (var raw = await RawSubscriberAsync(node.MqttPort, "lowered", "low/t", MqttPackets.Property4(0x11, 600)))
        {
            await raw.SendAsync(MqttPackets.Disconnect5(0, MqttPackets.Property4(0x11, 0)));
            Assert.NotNull(await raw.ReadUntilClosedAsync(Timeout));
        }
        using var again = await RawMqttClient.ConnectAsync(node.MqttPort);
        await again.SendAsync(MqttPackets.Connect5("lowered", cleanStart: false, MqttPackets.Property4(0x11, 600)));
        var connAck = await again.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0);
        Assert.Equal(0, connAck!.Body[0] & 1); // no session present: it ended at the DISCONNECT
    }

    [Fact]
    public async Task PersistentSession_NodeKilledAfterPuback_SessionPresentAndMessageReplayedFromTheLog()
    {
        using var dir = new TempDirectory();
        await using var node = await StartOwnAsync(dir);
        // Session Expiry 3600: the session outlives the connection, and (stored in meta.db) the node.
        using (await RawSubscriberAsync(node.MqttPort, "keeper", "keep/t", MqttPackets.Property4(0x11, 3600)))
        {
        }
        // PublishAsync returns on the PUBACK, which the core sends once the append is durable.
        using (var publisher = await ConnectClientAsync(node.MqttPort, "keep-pub")) await PublishAsync(publisher, "keep/t", "across a kill");
        // Killed: no final checkpoint; the cursor written with the session (before its CONNACK) must do.
        await node.RestartAsync(kill: true);

        using var again = await RawMqttClient.ConnectAsync(node.MqttPort);
        await again.SendAsync(MqttPackets.Connect5("keeper", cleanStart: false, MqttPackets.Property4(0x11, 3600)));
        var connAck = await again.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0);
        Assert.Equal(1, connAck!.Body[0] & 1); // session present: restored from meta.db
        var publish = await again.ReadPacketAsync(Timeout);
        Assert.True(publish is { Type: 3 }, "the message owed to the stored session was not replayed");
        Assert.Equal("across a kill", publish!.PublishPayload(true));
    }
}
