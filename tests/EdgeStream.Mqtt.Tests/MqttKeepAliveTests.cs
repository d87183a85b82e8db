using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Keep alive under either engine (MQTT 3.1.1 §3.1.2.10): a client silent for one and a half times its
/// own keep alive is disconnected by the server, and its will is published.
/// </summary>
public sealed class MqttKeepAliveTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task SilentClient_ClosedAfterOneAndAHalfKeepAlives_WillPublished()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var wills = new ConcurrentQueue<string>();
        using var watcher = new MqttClientFactory().CreateMqttClient();
        watcher.ApplicationMessageReceivedAsync += e =>
        {
            wills.Enqueue(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        await watcher.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", node.MqttPort).WithClientId("ka-watcher")
            .WithTimeout(TimeSpan.FromSeconds(10)).Build());
        await watcher.SubscribeAsync("ka/will", MqttQualityOfServiceLevel.AtLeastOnce);

        using var silent = await RawMqttClient.ConnectAsync(node.MqttPort);
        // Started before the CONNECT leaves: the server cannot start its keep-alive clock earlier, so this is a strict
        // lower bound however late the CONNACK reaches a loaded test machine.
        var sinceConnect = Stopwatch.StartNew();
        // MQTT 3.1.1, Clean Session, Will Flag, Will QoS 1; keep alive 1 s.
        await silent.SendAsync(MqttPackets.ConnectWith("MQTT", 4, 0x02 | 0x04 | 0x08, 1, "ka-silent", ("ka/will", "gone")));
        var connAck = await silent.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0, $"CONNACK 0 expected, got {connAck?.First:X2}");

        var packets = await silent.ReadUntilClosedAsync(Timeout);
        Assert.True(packets is not null, "a client silent past 1.5 times its keep alive was not disconnected");
        Assert.True(sinceConnect.Elapsed >= TimeSpan.FromSeconds(1.5), $"closed {sinceConnect.Elapsed.TotalSeconds:F2} s after the CONNECT, before 1.5 times its keep alive");
        Assert.True(await Wait.UntilAsync(() => wills.Contains("gone"), Timeout), "the will of the timed-out client was not published");
    }
}
