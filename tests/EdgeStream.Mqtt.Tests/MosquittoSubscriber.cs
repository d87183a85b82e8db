using System.Collections.Concurrent;
using System.Diagnostics;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// A running <c>mosquitto_sub -v</c> whose lines (<c>TOPIC PAYLOAD</c>) are collected; started only
/// once its subscription is in place, proven by a ping it received.
/// </summary>
public sealed class MosquittoSubscriber : IAsyncDisposable
{
    private readonly Process _process;

    private MosquittoSubscriber(Process process) => _process = process;

    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>
    /// Subscribes to <paramref name="filter"/> at QoS 1 (<paramref name="extra"/> added to both tools,
    /// e.g. TLS options) and publishes distinct pings to <paramref name="pingTopic"/> until one arrives.
    /// </summary>
    public static async Task<MosquittoSubscriber> StartAsync(int port, string filter, string pingTopic, params string[] extra)
    {
        var subscriber = new MosquittoSubscriber(ExternalTool.Start("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", port.ToString(), "-i", Mqtt.ClientId("sub"), "-t", filter, "-q", "1", "-v", "-W", "60", .. extra]));
        subscriber._process.OutputDataReceived += (_, e) => { if (e.Data is { } l) subscriber.Lines.Enqueue(l); };
        subscriber._process.BeginOutputReadLine();
        var pings = 0;
        var subscribed = await Wait.UntilAsync(() =>
        {
            if (!subscriber.Lines.IsEmpty) return true;
            Mqtt.Publish(port, pingTopic, $"ping-{pings++}", 1, extra);
            return false;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        if (subscribed) return subscriber;
        await subscriber.DisposeAsync();
        Assert.Fail("mosquitto_sub got no ping");
        return subscriber;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
