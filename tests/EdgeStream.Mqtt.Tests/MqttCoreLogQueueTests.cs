using System.Collections.Concurrent;
using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// The own core's log as the queue (issue 16): with <c>--mqtt-max-queued 10</c>, a QoS 1 subscriber that
/// falls behind (away, or acknowledging nothing) still gets every message, once, in order per topic:
/// what does not fit in its queue is read back from the log as it catches up.
/// </summary>
public sealed class MqttCoreLogQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>An MQTT 5 subscriber with a persistent session, collecting "topic payload" lines; the handler waits on <paramref name="gate"/> when given.</summary>
    private static async Task<IMqttClient> SubscriberAsync(int port, string clientId, string filter, ConcurrentQueue<string> received,
        bool cleanStart, ushort receiveMaximum = 0, TaskCompletionSource? gate = null)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += async e =>
        {
            if (gate is not null) await gate.Task;
            received.Enqueue($"{e.ApplicationMessage.Topic} {e.ApplicationMessage.ConvertPayloadToString()}");
        };
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId).WithCleanStart(cleanStart).WithSessionExpiryInterval(600).WithTimeout(TimeSpan.FromSeconds(10));
        if (receiveMaximum != 0) options = options.WithReceiveMaximum(receiveMaximum);
        var result = await client.ConnectAsync(options.Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        if (cleanStart)
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return client;
    }

    private static async Task PublishRangeAsync(IMqttClient publisher, string topic, int from, int to)
    {
        for (var i = from; i < to; i++) await MqttCoreTests.PublishAsync(publisher, topic, $"m{i}");
    }

    private static IEnumerable<string> Expected(string topic, int count) => Enumerable.Range(0, count).Select(i => $"{topic} m{i}");

    /// <summary>Everything up to the end marker arrived: the positive sign that nothing else is on its way (no duplicate after it either).</summary>
    private static async Task<List<string>> UntilEndAsync(IMqttClient publisher, ConcurrentQueue<string> received, string endTopic)
    {
        await MqttCoreTests.PublishAsync(publisher, endTopic, "end");
        Assert.True(await Wait.UntilAsync(() => received.Contains($"{endTopic} end"), Timeout),
            $"the end marker never arrived; {received.Count} messages did");
        return received.Where(l => l != $"{endTopic} end").ToList();
    }

    [Fact]
    public async Task PersistentSubscriberAway_Gets1000QueuedBeyondMaxQueued_OnceInOrder()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir, "--mqtt-max-queued", "10");
        var received = new ConcurrentQueue<string>();
        using (var first = await SubscriberAsync(node.MqttPort, "away-sub", "away/#", received, cleanStart: true))
            await first.DisconnectAsync();
        using var publisher = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "away-pub");
        await PublishRangeAsync(publisher, "away/t", 0, 1000);

        using var subscriber = await SubscriberAsync(node.MqttPort, "away-sub", "away/#", received, cleanStart: false);
        var got = await UntilEndAsync(publisher, received, "away/end");
        Assert.Equal(Expected("away/t", 1000), got);
    }

    /// <remarks>
    /// Under <c>group</c> a message is routed while its append is still running (its position comes later);
    /// under <c>os</c> the append is done when it is routed: both ways into the log-backed part.
    /// </remarks>
    [Theory]
    [InlineData("group")]
    [InlineData("os")]
    public async Task StalledSubscriberWithLivePublishing_AcrossTheSwitchBack_EveryMessageOnceInOrderPerTopic(string fsync)
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir, "--mqtt-max-queued", "10", "--fsync", fsync);
        var received = new ConcurrentQueue<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscriber = await SubscriberAsync(node.MqttPort, "stall-sub", "stall/#", received, cleanStart: true, receiveMaximum: 1, gate: gate);
        using var a = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "stall-pub-a");
        using var b = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "stall-pub-b");

        // The handler holds the first message unacknowledged: with Receive Maximum 1 nothing else leaves the queue.
        await Task.WhenAll(PublishRangeAsync(a, "stall/a", 0, 300), PublishRangeAsync(b, "stall/b", 0, 300));
        Assert.True(received.Count <= 1);
        // Released while both keep publishing: the reader catches up and hands over to live queuing under way.
        gate.SetResult();
        await Task.WhenAll(PublishRangeAsync(a, "stall/a", 300, 800), PublishRangeAsync(b, "stall/b", 300, 800));

        var got = await UntilEndAsync(a, received, "stall/end");
        Assert.Equal(Expected("stall/a", 800), got.Where(l => l.StartsWith("stall/a ", StringComparison.Ordinal)));
        Assert.Equal(Expected("stall/b", 800), got.Where(l => l.StartsWith("stall/b ", StringComparison.Ordinal)));
        Assert.Equal(1600, got.Count);
    }

    [Fact]
    public async Task PersistentSubscriberAway_AgentRestartedInBetween_GetsEveryMessageOnceInOrder()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir, "--mqtt-max-queued", "10");
        var received = new ConcurrentQueue<string>();
        using (var first = await SubscriberAsync(node.MqttPort, "restart-sub", "restart/#", received, cleanStart: true))
            await first.DisconnectAsync();
        using (var publisher = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "restart-pub"))
            await PublishRangeAsync(publisher, "restart/t", 0, 300);

        await node.RestartAsync();
        using (var publisher = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "restart-pub"))
            await PublishRangeAsync(publisher, "restart/t", 300, 600);

        using var subscriber = await SubscriberAsync(node.MqttPort, "restart-sub", "restart/#", received, cleanStart: false);
        using var last = await MqttCoreTests.ConnectClientAsync(node.MqttPort, "restart-pub");
        var got = await UntilEndAsync(last, received, "restart/end");
        Assert.Equal(Expected("restart/t", 600), got);
    }
}
