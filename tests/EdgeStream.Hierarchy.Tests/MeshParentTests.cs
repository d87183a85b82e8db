using System.Diagnostics;
using System.Text.Json;
using EdgeStream.TestSupport;
using Xunit.Abstractions;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Parent choice through the mesh with real agent processes on loopback: every agent gossips on its own
/// 127.0.0.1 port with mDNS off (AgentNode's defaults), and edges find gateways through <c>--seeds</c>.
/// </summary>
public sealed class MeshParentTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(120);

    private static string? ParentOf(JsonElement status) =>
        status.GetProperty("mesh").GetProperty("parent").GetProperty("nodeId") is { ValueKind: JsonValueKind.String } id ? id.GetString() : null;

    [Fact]
    public async Task EdgeWithoutParent_SeedsAGateway_ChoosesItAndForwardsExactlyOnce()
    {
        using var dir = new TempDirectory();
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gw"), "gateway", "--node-id", "gw-1");
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--seeds", gateway.GossipAddress);

        var (chosen, last) = await Wait.UntilAsync(edge.StatusAsync, s => ParentOf(s) == "gw-1", Deadline, TimeSpan.FromMilliseconds(200));
        Assert.True(chosen, $"the edge did not choose gw-1: {last}");
        var parent = last.GetProperty("mesh").GetProperty("parent");
        Assert.Equal($"127.0.0.1:{gateway.UplinkPort}", parent.GetProperty("address").GetString());
        Assert.True(await Wait.UntilAsync(() => edge.Process.Stdout.Contains("Parent changed from none to gw-1 because", StringComparison.Ordinal), Deadline),
            $"no parent change logged:\n{edge.Process.Stdout}");
        var members = last.GetProperty("mesh").GetProperty("members").EnumerateArray().ToList();
        Assert.Contains(members, m => m.GetProperty("nodeId").GetString() == "gw-1" && m.GetProperty("state").GetString() == "alive"
            && m.GetProperty("scope").GetString() == "site" && m.GetProperty("role").GetString() == "gateway");

        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 0, 2_000);
        var arrived = await Hierarchy.ReadAllAsync(gateway, "telemetry", Drain, edge);
        Hierarchy.AssertExactlyOnce(arrived, "k", 2_000, "edge-a", "telemetry");

        // edgestream members reads the edge's status.
        var (code, stdout, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["members", "--http", $"127.0.0.1:{edge.HttpPort}"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("gw-1", stdout);
        Assert.Contains("edge-a", stdout);
        Assert.Contains("parent  gw-1 at 127.0.0.1:" + gateway.UplinkPort, stdout);
        var (jsonCode, json, _) = await AgentProcess.RunToExitAsync(dir.Path, ["members", "--http", $"127.0.0.1:{edge.HttpPort}", "--format", "json"]);
        Assert.Equal(0, jsonCode);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("gw-1", doc.RootElement.GetProperty("parent").GetProperty("nodeId").GetString());
    }

    /// <summary>cloud-1, and gw-1 and gw-2 with it as their --parent.</summary>
    private static async Task<(AgentNode Cloud, AgentNode Gw1, AgentNode Gw2)> CloudAndTwoGatewaysAsync(TempDirectory dir)
    {
        var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", "--node-id", "cloud-1");
        var toCloud = $"127.0.0.1:{cloud.UplinkPort}";
        var gw1 = await AgentNode.StartAsync(dir.Combine("gw1"), "gateway", "--node-id", "gw-1", "--parent", toCloud);
        var gw2 = await AgentNode.StartAsync(dir.Combine("gw2"), "gateway", "--node-id", "gw-2", "--parent", toCloud);
        return (cloud, gw1, gw2);
    }

    [Fact]
    public async Task ParentGatewayKilled_EdgeMovesToTheOtherWithinSeconds_EveryAckedRecordReachesTheCloudOnce()
    {
        using var dir = new TempDirectory();
        var (cloudNode, gw1Node, gw2Node) = await CloudAndTwoGatewaysAsync(dir);
        await using var cloud = cloudNode;
        await using var gw1 = gw1Node;
        await using var gw2 = gw2Node;
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a",
            "--seeds", gw1.GossipAddress, "--seeds", gw2.GossipAddress);

        // Both gateways known, then a parent chosen.
        var (ready, status) = await Wait.UntilAsync(edge.StatusAsync,
            s => ParentOf(s) is not null && s.GetProperty("mesh").GetProperty("members").EnumerateArray().Count(m => m.GetProperty("state").GetString() == "alive") == 3,
            Deadline, TimeSpan.FromMilliseconds(200));
        Assert.True(ready, $"no parent with both gateways alive: {status}");
        var first = ParentOf(status)!;
        var (dying, survivor) = first == "gw-1" ? (gw1, gw2) : (gw2, gw1);
        var other = first == "gw-1" ? "gw-2" : "gw-1";

        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 0, 1_000);
        // Everything so far acknowledged by the edge's parent and by that parent's parent (the cloud):
        // a gateway killed now loses nothing it acknowledged.
        Assert.True(await Wait.UntilAsync(async () => await edge.UplinkDrainedAsync("telemetry") && await dying.UplinkDrainedAsync("telemetry"), Drain,
            TimeSpan.FromMilliseconds(500)), "first batch did not drain");

        var clock = Stopwatch.StartNew();
        await dying.KillAsync();
        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 1_000, 2_000);
        var (moved, after) = await Wait.UntilAsync(edge.StatusAsync, s => ParentOf(s) == other, Deadline, TimeSpan.FromMilliseconds(100));
        Assert.True(moved, $"the edge did not move to {other}: {after}");
        output.WriteLine($"parent moved from {first} to {other} {clock.Elapsed.TotalSeconds:0.0} s after kill -9; reason: {after.GetProperty("mesh").GetProperty("parent").GetProperty("reason").GetString()}");

        var arrived = await Hierarchy.ReadAllAsync(cloud, "telemetry", Drain, edge, survivor);
        output.WriteLine($"all 2000 records at the cloud {clock.Elapsed.TotalSeconds:0.0} s after the kill");
        Hierarchy.AssertExactlyOnce(arrived, "k", 2_000, "edge-a", "telemetry", checkOrder: false);
    }

    /// <summary>
    /// With <c>--parent</c> the operator's list wins, and membership only tells the uplink early that a
    /// listed parent is dead. A frozen gateway (SIGSTOP: a hung host) is where that matters: its kernel
    /// still accepts connections and holds the open stream, so the uplink sees no error until HTTP/2
    /// keep-alive pings time out; membership declares it dead in about 2.5 s.
    /// </summary>
    [Fact]
    public async Task OperatorParentList_FirstParentFrozen_MembershipMovesTheUplinkToTheNextWithinSeconds()
    {
        using var dir = new TempDirectory();
        var (cloudNode, gw1Node, gw2Node) = await CloudAndTwoGatewaysAsync(dir);
        await using var cloud = cloudNode;
        await using var gw1 = gw1Node;
        await using var gw2 = gw2Node;
        var first = $"127.0.0.1:{gw1.UplinkPort}";
        var second = $"127.0.0.1:{gw2.UplinkPort}";
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a",
            "--parent", first, "--parent", second, "--seeds", gw1.GossipAddress, "--seeds", gw2.GossipAddress);

        static string? UplinkParent(JsonElement s) =>
            s.TryGetProperty("uplinkSender", out var u) && u.TryGetProperty("parent", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
        var (ready, status) = await Wait.UntilAsync(edge.StatusAsync,
            s => ParentOf(s) == "gw-1" && s.GetProperty("mesh").GetProperty("members").EnumerateArray().Count(m => m.GetProperty("state").GetString() == "alive") == 3,
            Deadline, TimeSpan.FromMilliseconds(200));
        Assert.True(ready, $"the edge is not on gw-1 (its first listed parent) with both gateways alive: {status}");
        Assert.Equal("operator's --parent list", status.GetProperty("mesh").GetProperty("parent").GetProperty("reason").GetString());

        Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 0, 1_000);
        Assert.True(await Wait.UntilAsync(async () => await edge.UplinkDrainedAsync("telemetry") && await gw1.UplinkDrainedAsync("telemetry"), Drain,
            TimeSpan.FromMilliseconds(500)), "first batch did not drain through gw-1");

        var clock = Stopwatch.StartNew();
        gw1.Process.SendSignal(AgentProcess.Sigstop);
        try
        {
            Hierarchy.Produce(edge.Bootstrap, "telemetry", "k", 1_000, 2_000);
            var (moved, after) = await Wait.UntilAsync(edge.StatusAsync, s => UplinkParent(s) == second && ParentOf(s) == "gw-2", Deadline, TimeSpan.FromMilliseconds(100));
            var movedAfter = clock.Elapsed;
            Assert.True(moved, $"the edge's uplink did not move to gw-2: {after}\n{edge.Process.Stdout}");
            output.WriteLine($"uplink moved from gw-1 (frozen) to gw-2 {movedAfter.TotalSeconds:0.0} s after SIGSTOP");
            Assert.Contains($"Mesh: listed parent {first} (gw-1) is dead; telling the uplink to move on", edge.Process.Stdout);
            // Keep-alive alone would take its ping delay plus a 10 s timeout; membership is the reason it was quick.
            Assert.True(movedAfter < TimeSpan.FromSeconds(10), $"moving took {movedAfter.TotalSeconds:0.0} s");
        }
        finally
        {
            gw1.Process.SendSignal(AgentProcess.Sigcont);
        }

        // Whatever gw-1 had accepted before it froze reaches the cloud once it runs again; the cloud
        // de-duplicates by origin whatever went both ways.
        var arrived = await Hierarchy.ReadAllAsync(cloud, "telemetry", Drain, edge, gw1, gw2);
        output.WriteLine($"all 2000 records at the cloud {clock.Elapsed.TotalSeconds:0.0} s after SIGSTOP");
        Hierarchy.AssertExactlyOnce(arrived, "k", 2_000, "edge-a", "telemetry", checkOrder: false);
    }
}
