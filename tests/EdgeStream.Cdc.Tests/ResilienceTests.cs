using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

/// <summary>Exactly once across kill -9 of the agent (while snapshotting and while streaming) and PostgreSQL restarts.</summary>
[Collection("postgres")]
public sealed class ResilienceTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task KillNine_TenRoundsWhileSnapshottingAndStreaming_ExactlyOnceNoGap()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        // 10 000 rows in 200-row chunks: the first rounds land inside the snapshot, the later ones in the stream.
        const int rows = 10_000;
        await pg.ExecuteAsync(db, $"CREATE TABLE public.k (id int8 PRIMARY KEY, v int8 NOT NULL); INSERT INTO public.k SELECT i, 0 FROM generate_series(1, {rows}) i");
        var source = pg.Source("kill", db, "tables=public.k&chunkRows=200&heartbeat=1s");
        await using var node = await CdcAgent.StartAsync(dir.Path, source);
        var random = new Random(13);
        var duringSnapshot = 0;
        await using (var writer = new TableWriter(pg, db, "public.k", rows + 1, sessions: 2, delayMs: 2))
        {
            for (var round = 0; round < 10; round++)
            {
                await Task.Delay(random.Next(200, 1200));
                if ((await CdcAgent.SourceAsync(node, "kill"))?.GetProperty("state").GetString() == "snapshotting") duringSnapshot++;
                await node.RestartAsync(kill: true);
            }
            await CdcAgent.WaitForStateAsync(node, "kill", "streaming", Timeout);
        }
        var final = await CdcState.TableAsync(pg, db, "public.k");
        await pg.WaitSlotCaughtUpAsync(db, "edgestream_kill", Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, "cdc.kill.public.k");
        CdcState.AssertNoDuplicates(records);
        var snapshotIds = records.Where(r => r.Op == "r").Select(r => r.Id).ToList();
        Assert.Equal(snapshotIds.Count, snapshotIds.Distinct().Count());
        CdcState.AssertSame(final, records);
        Assert.True(duringSnapshot > 0, "no kill landed during the snapshot");
    }

    [Fact]
    public async Task PostgresRestart_MidStream_CaptureResumesByItself()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.r (id int8 PRIMARY KEY, v int8 NOT NULL)");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("restart", db, "tables=public.r&heartbeat=1s"));
        await CdcAgent.WaitForStateAsync(node, "restart", "streaming", Timeout);
        await pg.ExecuteAsync(db, "INSERT INTO public.r SELECT i, i FROM generate_series(1, 1000) i");
        await pg.StopAsync();
        await CdcAgent.WaitForStateAsync(node, "restart", "reconnecting", Timeout);
        await pg.StartAsync();
        await pg.ExecuteAsync(db, "INSERT INTO public.r SELECT i, i FROM generate_series(1001, 2000) i");
        await CdcAgent.WaitForStateAsync(node, "restart", "streaming", Timeout);
        await pg.WaitSlotCaughtUpAsync(db, "edgestream_restart", Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, "cdc.restart.public.r");
        CdcState.AssertNoDuplicates(records);
        CdcState.AssertSame(await CdcState.TableAsync(pg, db, "public.r"), records);
        Assert.Equal(2000, records.Count);
    }

    [Fact]
    public async Task IdleSlot_OnlyAnotherDatabaseWrites_ConfirmedFlushAdvances()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        var other = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.quiet (id int8 PRIMARY KEY, v int8)");
        await pg.ExecuteAsync(other, "CREATE TABLE public.busy (id int8, pad text)");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("idle", db, "tables=public.quiet&heartbeat=500ms"));
        await CdcAgent.WaitForStateAsync(node, "idle", "streaming", Timeout);
        var before = await pg.ConfirmedFlushAsync(db, "edgestream_idle");
        await pg.ExecuteAsync(other, "INSERT INTO public.busy SELECT i, md5(i::text) FROM generate_series(1, 20000) i");
        var written = PostgresServer.Lsn((await pg.ScalarAsync<string>(other, "SELECT pg_current_wal_lsn()::text"))!);
        ulong confirmed = 0;
        var advanced = await Wait.UntilAsync(async () => (confirmed = await pg.ConfirmedFlushAsync(db, "edgestream_idle")) >= written, Timeout, TimeSpan.FromMilliseconds(200));
        Assert.True(advanced, $"confirmed_flush_lsn stayed at {confirmed:X} (was {before:X}), other database wrote up to {written:X}");
        Assert.Equal(0, CdcRecord.CountOf(node.Bootstrap, "cdc.idle.public.quiet"));
    }
}
