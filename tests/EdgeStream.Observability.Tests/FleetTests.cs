using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>The fleet view at the top of an edge → gateway → cloud hierarchy of real agent processes.</summary>
public sealed class FleetTests
{
    [Fact]
    public async Task Cloud_ListsEveryNode_AndMarksAKilledEdgeStale()
    {
        using var dir = new TempDirectory();
        await using var tiers = await ThreeTierFleet.StartAsync(dir, staleAfter: "3s");
        var (cloud, edge) = (tiers.Cloud, tiers.Edge);
        string cloudId = tiers.CloudId, gatewayId = tiers.GatewayId, edgeId = tiers.EdgeId;
        // Traffic makes both links connect at once (an idle sender connects as well, just not at once).
        Scrape.Produce(edge, Unique.Name("fleet"), 20);

        var (listed, fleet) = await Wait.UntilAsync(() => FleetAsync(cloud), f =>
            f.TryGetValue(edgeId, out var e) && e.GetProperty("state").GetString() == "ok" && e.GetProperty("parentId").GetString() == gatewayId
            && f.TryGetValue(gatewayId, out var g) && g.GetProperty("parentId").GetString() == cloudId && g.GetProperty("parentConnected").GetBoolean(),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250));
        Assert.True(listed, "the cloud's /v1/fleet never listed edge → gateway → cloud: " + Describe(fleet));
        Assert.Equal(3, fleet.Count);
        Assert.Equal("cloud", fleet[cloudId].GetProperty("role").GetString());
        Assert.Equal("gateway", fleet[gatewayId].GetProperty("role").GetString());
        Assert.Equal("edge", fleet[edgeId].GetProperty("role").GetString());
        Assert.True(fleet[edgeId].GetProperty("parentConnected").GetBoolean());

        // The same view is a section of /v1/status.
        var status = await cloud.StatusAsync();
        Assert.Equal(3, status.GetProperty("fleet").GetProperty("nodes").GetArrayLength());

        // The CLI at the cloud: the tree as a table, as JSON, and the live view (two refreshes).
        var http = $"127.0.0.1:{cloud.HttpPort}";
        var (code, table, err) = await AgentProcess.RunToExitAsync(dir.Path, ["status", "--http", http]);
        Assert.True(code == 0, err);
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("NODE", lines[0]);
        Assert.StartsWith(cloudId + " ", lines[1]);
        Assert.StartsWith("└─ " + gatewayId + " ", lines[2]);
        Assert.StartsWith("   └─ " + edgeId + " ", lines[3]);
        Assert.Contains(" up ", lines[3]);
        (code, var json, err) = await AgentProcess.RunToExitAsync(dir.Path, ["status", "--http", http, "--format", "json"]);
        Assert.True(code == 0, err);
        using (var doc = JsonDocument.Parse(json)) Assert.Equal(3, doc.RootElement.GetProperty("nodes").GetArrayLength());
        (code, var top, err) = await AgentProcess.RunToExitAsync(dir.Path, ["top", "--http", http, "--count", "2"]);
        Assert.True(code == 0, err);
        Assert.Contains(edgeId, top);
        Assert.Contains("all links up", top);

        await edge.KillAsync();
        var (stale, after) = await Wait.UntilAsync(() => FleetAsync(cloud),
            f => f.TryGetValue(edgeId, out var e) && e.GetProperty("state").GetString() == "stale",
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(250));
        Assert.True(stale, "the killed edge was never marked stale: " + Describe(after));
        // Shown to a tenth of a second: 3.04 s ago (stale, past 3 s) reads 3.0.
        Assert.True(after[edgeId].GetProperty("lastHeardSecondsAgo").GetDouble() >= 3, Describe(after));
        Assert.Equal("ok", after[gatewayId].GetProperty("state").GetString());
    }

    private static async Task<Dictionary<string, JsonElement>> FleetAsync(AgentNode node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/fleet"));
        return doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("nodeId").GetString()!, n => n.Clone());
    }

    private static string Describe(Dictionary<string, JsonElement> fleet) =>
        string.Join("; ", fleet.Values.Select(n => n.GetRawText()));
}
