using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// Revoking a node at its parent (issue 14), with mutual TLS between tiers and real agent processes:
/// the revocation takes effect on the next frame of an open stream, a relayed origin is refused too,
/// nothing acknowledged is lost, an unrevoked node drains exactly once, and the list survives a restart.
/// </summary>
public sealed class RevocationTests
{
    private const string Token = "revocation-test-token-0123456789";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task RevokedMidStream_CloudStopsReceiving_OtherEdgesForward_UnrevokeDeliversExactlyOnce()
    {
        using var fleet = await TlsFleet.CreateAsync("cloud-1", "edge-1", "edge-2");
        var partitions = Hierarchy.Partitions.ToString();
        await using var cloud = await AgentNode.StartAsync(fleet.Dir.Combine("cloud"), "cloud",
            ["--node-id", "cloud-1", "--partitions", partitions, "--http-token", Token, .. fleet.Flags("cloud-1")]);
        string[] parent = ["--parent", $"127.0.0.1:{cloud.UplinkPort}", "--partitions", partitions, "--uplink-max-backoff", "1s"];
        // A bandwidth cap makes edge-1's drain last long enough for the revocation to land in the middle of it.
        await using var edge1 = await AgentNode.StartAsync(fleet.Dir.Combine("edge1"), "edge",
            ["--node-id", "edge-1", "--uplink-rate", "64KiB/s", .. parent, .. fleet.Flags("edge-1")]);
        await using var edge2 = await AgentNode.StartAsync(fleet.Dir.Combine("edge2"), "edge", ["--node-id", "edge-2", .. parent, .. fleet.Flags("edge-2")]);

        const int records = 12_000; // ~2 MB of incompressible values: about 30 s at 64 KiB/s
        Hierarchy.Produce(edge1.Bootstrap, "line-a", "a", 0, records);
        Hierarchy.Produce(edge2.Bootstrap, "line-b", "b", 0, 500);
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(cloud.Bootstrap, "line-a") > 0, Deadline, Poll), "edge-1's records never started to arrive");

        var revoke = await Nodes(cloud, fleet, "revoke", "edge-1");
        Assert.True(revoke.Code == 0, revoke.Stderr);
        Assert.Contains("revoked edge-1", revoke.Stdout);

        // The edge's next frame is refused: it says so in its status and logs a clear error.
        var (refused, status) = await Wait.UntilAsync(edge1.StatusAsync, s => Sender(s).GetProperty("revoked").GetBoolean(), Deadline, Poll);
        Assert.True(refused, status.ToString());
        Assert.True(await Wait.UntilAsync(() => edge1.Process.Stdout.Contains("it is revoked there", StringComparison.Ordinal), Deadline, Poll), edge1.Process.Stdout);
        var atRevocation = LogReader.Count(cloud.Bootstrap, "line-a");
        Assert.True(atRevocation < records, $"the revocation landed after the drain: the cloud already holds all {records}");
        // Stopped: the edge knocks again (capped backoff, 1 s) and is refused each time, and the cloud's count does not move.
        var refusals = Sender(status).GetProperty("revokedRefusals").GetInt64();
        Assert.True((await Wait.UntilAsync(edge1.StatusAsync, s => Sender(s).GetProperty("revokedRefusals").GetInt64() >= refusals + 2, Deadline, Poll)).Done);
        Assert.Equal(atRevocation, LogReader.Count(cloud.Bootstrap, "line-a"));
        var edgeStatus = await edge1.StatusAsync();
        Assert.True(Sender(edgeStatus).GetProperty("backlogRecords").GetInt64() > 0, "the refused records stay in the edge's log");
        // Not a tight loop: a few refusals a second at most (the backoff is at least a few hundred ms).
        var cloudStatus = await cloud.StatusAsync();
        Assert.True(cloudStatus.GetProperty("uplink").GetProperty("revokedRefusals").GetInt64() is > 0 and < 200, cloudStatus.ToString());
        Assert.Contains("is revoked", cloud.Process.Stdout);

        var listed = await Nodes(cloud, fleet, "revoked");
        Assert.True(listed.Code == 0 && listed.Stdout.Contains("edge-1\t", StringComparison.Ordinal), listed.Stdout + listed.Stderr);
        // Changing the list needs the token.
        var anonymous = await AgentProcess.RunToExitAsync(fleet.Dir.Path,
            ["nodes", "unrevoke", "edge-1", "--http", $"127.0.0.1:{cloud.HttpPort}", "--tls-ca", fleet.Ca]);
        Assert.True(anonymous.ExitCode == 1 && anonymous.Stderr.Contains("401", StringComparison.Ordinal), anonymous.Stderr);

        // edge-2 is not affected: what it takes now still reaches the cloud, every record once.
        Hierarchy.Produce(edge2.Bootstrap, "line-b", "b", 500, 1000);
        Hierarchy.AssertExactlyOnce(await Hierarchy.ReadAllAsync(cloud, "line-b", Deadline, edge2), "b", 1000, "edge-2", "line-b");

        var unrevoke = await Nodes(cloud, fleet, "unrevoke", "edge-1");
        Assert.True(unrevoke.Code == 0, unrevoke.Stderr);
        var arrived = await Hierarchy.ReadAllAsync(cloud, "line-a", TimeSpan.FromSeconds(180), edge1);
        Hierarchy.AssertExactlyOnce(arrived, "a", records, "edge-1", "line-a");
        Assert.False(Sender(await edge1.StatusAsync()).GetProperty("revoked").GetBoolean());
    }

    [Fact]
    public async Task GatewayRelayingARevokedEdge_RefusedAtTheCloud_TheGatewaysOtherTrafficFlows()
    {
        using var fleet = await TlsFleet.CreateAsync("cloud-1", "gw-1", "edge-1", "edge-2");
        // The deny list comes from the setting here: edge-1 is revoked at the cloud only.
        await using var cloud = await AgentNode.StartAsync(fleet.Dir.Combine("cloud"), "cloud",
            ["--node-id", "cloud-1", "--revoked-nodes", "edge-1", .. fleet.Flags("cloud-1")]);
        await using var gateway = await AgentNode.StartAsync(fleet.Dir.Combine("gw"), "gateway",
            ["--node-id", "gw-1", "--parent", $"127.0.0.1:{cloud.UplinkPort}", "--uplink-max-backoff", "1s", .. fleet.Flags("gw-1")]);
        string[] parent = ["--parent", $"127.0.0.1:{gateway.UplinkPort}", "--uplink-max-backoff", "1s"];
        await using var edge1 = await AgentNode.StartAsync(fleet.Dir.Combine("edge1"), "edge", ["--node-id", "edge-1", .. parent, .. fleet.Flags("edge-1")]);
        await using var edge2 = await AgentNode.StartAsync(fleet.Dir.Combine("edge2"), "edge", ["--node-id", "edge-2", .. parent, .. fleet.Flags("edge-2")]);

        Hierarchy.Produce(edge1.Bootstrap, "line-a", "a", 0, 200);
        Hierarchy.Produce(edge2.Bootstrap, "line-b", "b", 0, 200);

        // The gateway takes edge-1's records (it was told nothing), the cloud refuses them as relayed from a revoked origin.
        Assert.True(await Wait.UntilAsync(() => LogReader.Count(gateway.Bootstrap, "line-a") == 200, Deadline, Poll));
        Hierarchy.AssertExactlyOnce(await Hierarchy.ReadAllAsync(cloud, "line-b", Deadline, edge2, gateway), "b", 200, "edge-2", "line-b");
        var (refused, status) = await Wait.UntilAsync(gateway.StatusAsync, s => Sender(s).GetProperty("revokedRefusals").GetInt64() > 0, Deadline, Poll);
        Assert.True(refused, status.ToString());
        Assert.False(Sender(status).GetProperty("revoked").GetBoolean()); // the gateway itself is not revoked
        Assert.True((await cloud.StatusAsync()).GetProperty("uplink").GetProperty("revokedRefusals").GetInt64() > 0);
        Assert.Equal(0, LogReader.Count(cloud.Bootstrap, "line-a"));
        Assert.Contains("origin node edge-1 is revoked", gateway.Process.Stdout);
    }

    [Fact]
    public async Task RevokedList_SurvivesAParentRestart()
    {
        using var fleet = await TlsFleet.CreateAsync("cloud-1", "edge-1");
        await using var cloud = await AgentNode.StartAsync(fleet.Dir.Combine("cloud"), "cloud", ["--node-id", "cloud-1", "--http-token", Token, .. fleet.Flags("cloud-1")]);
        Assert.Equal(0, (await Nodes(cloud, fleet, "revoke", "edge-1")).Code);

        await cloud.RestartAsync();

        var listed = await Nodes(cloud, fleet, "revoked");
        Assert.True(listed.Code == 0 && listed.Stdout.Contains("edge-1\t", StringComparison.Ordinal), listed.Stdout + listed.Stderr);
        await using var edge = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge",
            ["--node-id", "edge-1", "--parent", $"127.0.0.1:{cloud.UplinkPort}", "--uplink-max-backoff", "1s", .. fleet.Flags("edge-1")]);
        Hierarchy.Produce(edge.Bootstrap, "line-a", "a", 0, 50);
        // Refused at the stream's start: the edge reports it and the cloud stores nothing.
        var (refused, status) = await Wait.UntilAsync(edge.StatusAsync, s => Sender(s).GetProperty("revokedRefusals").GetInt64() >= 2, Deadline, Poll);
        Assert.True(refused, status.ToString());
        Assert.True(Sender(status).GetProperty("revoked").GetBoolean());
        Assert.Equal(0, LogReader.Count(cloud.Bootstrap, "line-a"));
    }

    private static JsonElement Sender(JsonElement status) => status.GetProperty("uplinkSender");

    /// <summary><c>edgestream nodes VERB [ID]</c> against <paramref name="node"/>'s HTTPS listener, with the token.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> Nodes(AgentNode node, TlsFleet fleet, params string[] args) =>
        await AgentProcess.RunToExitAsync(fleet.Dir.Path,
            ["nodes", .. args, "--http", $"127.0.0.1:{node.HttpPort}", "--http-token", Token, "--tls-ca", fleet.Ca]);
}
