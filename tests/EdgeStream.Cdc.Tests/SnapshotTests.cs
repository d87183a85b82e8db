using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

[Collection("postgres")]
public sealed class SnapshotTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    // Scaled from the 100 000 rows to 20 000 (CI has 2 cores); 500-row chunks make it 40 chunk windows.
    private const int Rows = 20_000;

    [Fact]
    public async Task Snapshot_WithConcurrentWriters_LogStateEqualsTableEachChangeOnce()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, $"CREATE TABLE public.big (id int8 PRIMARY KEY, v int8 NOT NULL, pad text); INSERT INTO public.big SELECT i, 0, md5(i::text) FROM generate_series(1, {Rows}) i");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("snap", db, "tables=public.big&chunkRows=500&heartbeat=1s"));
        await using (var writer = new TableWriter(pg, db, "public.big", Rows + 1))
        {
            await CdcAgent.WaitForStateAsync(node, "snap", "streaming", Timeout);
            Assert.True(writer.Transactions > 0);
        }
        var final = await CdcState.TableAsync(pg, db, "public.big");
        await pg.WaitSlotCaughtUpAsync(db, "edgestream_snap", Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, "cdc.snap.public.big");
        CdcState.AssertNoDuplicates(records);
        var snapshotIds = records.Where(r => r.Op == "r").Select(r => r.Id).ToList();
        Assert.Equal(snapshotIds.Count, snapshotIds.Distinct().Count());
        CdcState.AssertSame(final, records);
    }
}
