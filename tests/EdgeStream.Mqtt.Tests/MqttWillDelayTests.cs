using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Delayed wills in the log: a will held back for its delay is appended when it is published, and
/// one cancelled by a reconnect never is. Its own agent, so the log holds this scenario's records only.
/// </summary>
public sealed class MqttWillDelayTests
{
    [Fact]
    public async Task WillDelay_DelayedWillAppendedAfterDelay_CancelledWillNeverAppended()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", "--partitions", "1");
        var prefix = Mqtt.ClientId("wd").Replace("-", "", StringComparison.Ordinal);
        var script = Path.Combine(AppContext.BaseDirectory, "paho", "paho_scenarios.py");
        var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3",
            [script, "will-delay", node.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), prefix],
            timeout: TimeSpan.FromSeconds(90));
        Assert.True(code == 0, $"paho scenario exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}\nagent stderr:\n{node.Process.Stderr}");
        using var result = JsonDocument.Parse(stdout.TrimEnd().Split('\n')[^1]);
        var events = result.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Contains($"gone:{prefix}-delayed", events);

        // Every PUBLISH of the scenario is logged in the order it was accepted: the probe sent 0.5 s
        // after the kill, then the will (2 s delay), then the two probes sent after the second
        // client's delay had passed. The second client's will (cancelled by its reconnect) would
        // have been appended before probe-2.
        var records = Mqtt.ReadLog(node.Bootstrap, expected: 4);
        Assert.Equal(
            [$"{prefix}/probe/1", $"{prefix}/will/{prefix}-delayed", $"{prefix}/probe/2", $"{prefix}/probe/3"],
            records.Select(r => r.Key));
        Assert.Equal(["probe-1", $"gone:{prefix}-delayed", "probe-2", "probe-3"], records.Select(r => r.Text));
        Assert.Equal("1", records[1].Headers["mqtt.qos"]);
    }
}
