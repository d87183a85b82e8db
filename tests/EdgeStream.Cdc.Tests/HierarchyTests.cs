using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

[Collection("postgres")]
public sealed class HierarchyTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task EdgeGatewayCloud_TableChangesAtTheCloud_MatchTheTableInCommitOrder()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.h (id int8 PRIMARY KEY, v int8 NOT NULL); INSERT INTO public.h SELECT i, 0 FROM generate_series(1, 2000) i");
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", "--node-id", "cloud-1");
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--parent", $"127.0.0.1:{cloud.UplinkPort}");
        await using var edge = await CdcAgent.StartAsync(dir.Combine("edge"), "edge", [pg.Source("plant", db, "tables=public.h&chunkRows=500&heartbeat=1s")],
            ["--node-id", "edge-1", "--parent", $"127.0.0.1:{gateway.UplinkPort}"]);
        await using (var writer = new TableWriter(pg, db, "public.h", 2001, sessions: 2, delayMs: 1))
        {
            await CdcAgent.WaitForStateAsync(edge, "plant", "streaming", Timeout);
            await Task.Delay(1000);
        }
        const string topic = "cdc.plant.public.h";
        await pg.WaitSlotCaughtUpAsync(db, "edgestream_plant", Timeout);
        var atEdge = CdcRecord.ReadAll(edge.Bootstrap, topic);
        var drained = await Wait.UntilAsync(async () => await edge.UplinkDrainedAsync(topic) && await gateway.UplinkDrainedAsync(topic), Timeout, TimeSpan.FromMilliseconds(500));
        Assert.True(drained, "the uplinks did not drain");
        var atCloud = CdcRecord.ReadAll(cloud.Bootstrap, topic);
        Assert.Equal(atEdge.Count, atCloud.Count);
        Assert.Equal(atEdge.Select(r => (r.Key, r.Value)), atCloud.Select(r => (r.Key, r.Value))); // once each, in commit order
        CdcState.AssertNoDuplicates(atCloud);
        CdcState.AssertSame(await CdcState.TableAsync(pg, db, "public.h"), atCloud);
    }
}
