using EdgeStream.TestSupport;

namespace EdgeStream.Observability.Tests;

/// <summary>
/// An edge → gateway → cloud hierarchy of agent processes with unique node ids and fleet reports every
/// half second, for the tests that watch a fleet from its top.
/// </summary>
public sealed class ThreeTierFleet : IAsyncDisposable
{
    private ThreeTierFleet(AgentNode cloud, AgentNode gateway, AgentNode edge, string suffix)
    {
        Cloud = cloud;
        Gateway = gateway;
        Edge = edge;
        CloudId = "cloud-" + suffix;
        GatewayId = "gw-" + suffix;
        EdgeId = "edge-" + suffix;
    }

    public AgentNode Cloud { get; }
    public AgentNode Gateway { get; }
    public AgentNode Edge { get; }
    public string CloudId { get; }
    public string GatewayId { get; }
    public string EdgeId { get; }

    /// <param name="staleAfter">--fleet-stale-after on every node.</param>
    /// <param name="edgeArgs">More settings for the edge.</param>
    public static async Task<ThreeTierFleet> StartAsync(TempDirectory dir, string staleAfter, params string[] edgeArgs)
    {
        var suffix = Unique.Name("f")[2..];
        string[] fast = ["--fleet-report-interval", "500ms", "--fleet-stale-after", staleAfter, "--uplink-max-backoff", "500ms"];
        var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", [.. fast, "--node-id", "cloud-" + suffix]);
        AgentNode? gateway = null;
        try
        {
            gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", [.. fast, "--node-id", "gw-" + suffix, "--parent", $"127.0.0.1:{cloud.UplinkPort}"]);
            var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", [.. fast, "--node-id", "edge-" + suffix, "--parent", $"127.0.0.1:{gateway.UplinkPort}", .. edgeArgs]);
            return new ThreeTierFleet(cloud, gateway, edge, suffix);
        }
        catch
        {
            if (gateway is not null) await gateway.DisposeAsync();
            await cloud.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Edge.DisposeAsync();
        await Gateway.DisposeAsync();
        await Cloud.DisposeAsync();
    }
}
