using System.Buffers.Binary;
using System.Text;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Acknowledgements of pipelined QoS 1/2 PUBLISHes (the broker waits for durability once per group
/// commit, not once per message): in the order the PUBLISHes came, across log partitions, with a
/// refused append in the middle of one read. Every PUBLISH of a test goes out in one TCP write, so
/// the broker reads them as one batch. Run under either engine (EDGESTREAM_MQTT_ENGINE).
/// </summary>
public sealed class MqttAckOrderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // Larger than the log topic's max.message.bytes (1 MiB): the append is refused (0x99), not the packet (2 MiB allowed).
    private static readonly byte[] TooLarge = new byte[1536 * 1024];

    [Fact]
    public async Task PipelinedQos1And2_AcrossPartitions_AcknowledgedInPublishOrderAndAllLogged()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "4");
        var (client, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, Mqtt.ClientId("order"));
        using var _c = client;

        const int count = 60;
        var batch = new List<byte>();
        // Topics spread over the 4 partitions (the MQTT topic is the key); every third message QoS 2.
        for (var id = 1; id <= count; id++)
            batch.AddRange(MqttPackets.Publish($"order/{id % 7}", Encoding.UTF8.GetBytes($"m{id}"), id % 3 == 0 ? 2 : 1, (ushort)id, mqtt5: true));
        Assert.True(await client.SendAsync([.. batch]));

        var acks = await ReadAcksAsync(client, count);
        Assert.Equal(Enumerable.Range(1, count).Select(id => (id % 3 == 0 ? 5 : 4, (ushort)id, (byte)0)), acks);

        // Acknowledged means durable: everything is in the log now, no waiting.
        var logged = Mqtt.ReadLogToEnd(node.Bootstrap).Select(r => r.Text).ToHashSet();
        Assert.Equal(Enumerable.Range(1, count).Select(id => $"m{id}").ToHashSet(), logged);
    }

    [Fact]
    public async Task Mqtt5_RefusedAppendMidBatch_RefusedInPlaceAndTheOthersAcknowledgedInOrder()
    {
        using var dir = new TempDirectory();
        await using var node = await StartAllowingLargePacketsAsync(dir);
        var (client, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: true, Mqtt.ClientId("refuse5"));
        using var _c = client;

        Assert.True(await client.SendAsync(RefusedInTheMiddle(mqtt5: true)));
        var acks = await ReadAcksAsync(client, 5);
        // 0x99 payload format invalid for the refused append, in its place; the others succeed.
        Assert.Equal([(4, 1, 0), (4, 2, 0), (4, 3, 0x99), (5, 4, 0), (4, 5, 0)], acks.Select(a => (a.Type, (int)a.Id, (int)a.Reason)));
        var logged = Mqtt.ReadLogToEnd(node.Bootstrap).Select(r => r.Text).Order().ToList();
        Assert.Equal(["fifth", "first", "fourth", "second"], logged);
    }

    [Fact]
    public async Task Mqtt311_RefusedAppendMidBatch_EarlierAcknowledgedThenClosedNothingAcknowledgedAfter()
    {
        using var dir = new TempDirectory();
        await using var node = await StartAllowingLargePacketsAsync(dir);
        var (client, _) = await RawMqttClient.ConnectMqttAsync(node.MqttPort, mqtt5: false, Mqtt.ClientId("refuse311"));
        using var _c = client;

        await client.SendAsync(RefusedInTheMiddle(mqtt5: false));

        // MQTT 3.1.1 has no negative acknowledgement: the connection closes at the refused one.
        var packets = await client.ReadUntilClosedAsync(Timeout);
        Assert.True(packets is not null, "the connection was not closed after a refused append");
        var acked = packets.Select(p => Ack(p)).ToList();
        Assert.All(acked, a => Assert.Equal(4, a.Type));
        Assert.DoesNotContain(acked, a => a.Id >= 3);
        // In order, and what was acknowledged is in the log.
        Assert.Equal(acked.Select(a => a.Id).Order(), acked.Select(a => a.Id));
        var logged = Mqtt.ReadLogToEnd(node.Bootstrap).Select(r => r.Text).ToHashSet();
        Assert.All(acked, a => Assert.Contains(a.Id == 1 ? "first" : "second", logged));
        Assert.DoesNotContain(logged, text => text.Length > 100);
    }

    private static Task<AgentNode> StartAllowingLargePacketsAsync(TempDirectory dir) =>
        AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "2", "--mqtt-max-packet", "2MiB");

    /// <summary>Five PUBLISHes on two MQTT topics in one write; the third one's append is refused (too large), the fourth is QoS 2.</summary>
    private static byte[] RefusedInTheMiddle(bool mqtt5) =>
    [
        .. MqttPackets.Publish("mid/a", "first"u8.ToArray(), 1, 1, mqtt5),
        .. MqttPackets.Publish("mid/b", "second"u8.ToArray(), 1, 2, mqtt5),
        .. MqttPackets.Publish("mid/a", TooLarge, 1, 3, mqtt5),
        .. MqttPackets.Publish("mid/b", "fourth"u8.ToArray(), 2, 4, mqtt5),
        .. MqttPackets.Publish("mid/a", "fifth"u8.ToArray(), 1, 5, mqtt5),
    ];

    private static async Task<List<(int Type, ushort Id, byte Reason)>> ReadAcksAsync(RawMqttClient client, int count)
    {
        var acks = new List<(int Type, ushort Id, byte Reason)>();
        while (acks.Count < count)
        {
            var packet = await client.ReadPacketAsync(Timeout);
            Assert.True(packet is not null, $"connection closed after {acks.Count} acknowledgements");
            acks.Add(Ack(packet));
        }
        return acks;
    }

    /// <summary>A PUBACK (4) or PUBREC (5): packet id and reason code, 0 for any success (none, or 0x10 no matching subscribers).</summary>
    private static (int Type, ushort Id, byte Reason) Ack(MqttPacket? packet)
    {
        Assert.True(packet is { Type: 4 or 5 }, $"expected PUBACK or PUBREC, got {packet?.First:X2}");
        return (packet!.Type, BinaryPrimitives.ReadUInt16BigEndian(packet.Body), packet.Body.Length > 2 && packet.Body[2] >= 0x80 ? packet.Body[2] : (byte)0);
    }
}
