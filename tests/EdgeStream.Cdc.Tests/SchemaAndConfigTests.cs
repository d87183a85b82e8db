using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

[Collection("postgres")]
public sealed class SchemaAndConfigTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AlterTable_AddAndDropColumnMidStream_RecordsFollowTheRelation()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.s (id int PRIMARY KEY, a int)");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("schema", db, "tables=public.s"));
        await CdcAgent.WaitForStateAsync(node, "schema", "streaming", Timeout);
        await pg.ExecuteAsync(db, "INSERT INTO public.s VALUES (1, 1)");
        await pg.ExecuteAsync(db, "ALTER TABLE public.s ADD COLUMN note text");
        await pg.ExecuteAsync(db, "INSERT INTO public.s VALUES (2, 2, 'added')");
        await pg.ExecuteAsync(db, "ALTER TABLE public.s DROP COLUMN a");
        await pg.ExecuteAsync(db, "INSERT INTO public.s VALUES (3, 'dropped')");

        await CdcAgent.WaitForCountAsync(node, "cdc.schema.public.s", 3, Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, "cdc.schema.public.s");
        Assert.Equal(["id", "a"], records[0].After.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["id", "a", "note"], records[1].After.EnumerateObject().Select(p => p.Name));
        Assert.Equal("added", records[1].After.GetProperty("note").GetString());
        Assert.Equal(["id", "note"], records[2].After.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task TableAddedLater_SnapshottedThenStreamed_OthersKeepStreaming()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.first (id int8 PRIMARY KEY, v int8); CREATE TABLE public.later (id int8 PRIMARY KEY, v int8)");
        await pg.ExecuteAsync(db, "INSERT INTO public.later SELECT i, i FROM generate_series(1, 3000) i");
        var node = await CdcAgent.StartAsync(dir.Path, pg.Source("grow", db, "tables=public.first&chunkRows=250"));
        await CdcAgent.WaitForStateAsync(node, "grow", "streaming", Timeout);
        await pg.ExecuteAsync(db, "INSERT INTO public.first VALUES (1, 1)");
        await CdcAgent.WaitForCountAsync(node, "cdc.grow.public.first", 1, Timeout);
        await node.StopAsync();

        await using var grown = await CdcAgent.StartAsync(dir.Path, pg.Source("grow", db, "tables=public.first,public.later&chunkRows=250"));
        await using (var writer = new TableWriter(pg, db, "public.first", 2, sessions: 1, delayMs: 5))
            await CdcAgent.WaitForStateAsync(grown, "grow", "streaming", Timeout);
        await pg.ExecuteAsync(db, "UPDATE public.later SET v = -1 WHERE id = 7");
        await pg.WaitSlotCaughtUpAsync(db, "edgestream_grow", Timeout);

        var later = CdcRecord.ReadAll(grown.Bootstrap, "cdc.grow.public.later");
        Assert.Equal(3000, later.Count(r => r.Op == "r"));
        Assert.Equal("u", later[^1].Op);
        CdcState.AssertSame(await CdcState.TableAsync(pg, db, "public.later"), later);
        var first = CdcRecord.ReadAll(grown.Bootstrap, "cdc.grow.public.first");
        CdcState.AssertNoDuplicates(first);
        CdcState.AssertSame(await CdcState.TableAsync(pg, db, "public.first"), first);
    }

    [Fact]
    public async Task BadSource_NoSuchTable_FailsNamingTheFixWhileTheOtherSourceStreams()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.ok (id int PRIMARY KEY, v int)");
        await using var node = await CdcAgent.StartAsync(dir.Path,
            pg.Source("good", db, "tables=public.ok"), pg.Source("bad", db, "tables=public.missing"));
        await CdcAgent.WaitForStateAsync(node, "bad", "failed", Timeout);
        var bad = (await CdcAgent.SourceAsync(node, "bad"))!.Value;
        Assert.Contains("public.missing does not exist", bad.GetProperty("reason").GetString());
        Assert.Contains("remove it from the source's tables", bad.GetProperty("reason").GetString());
        await CdcAgent.WaitForStateAsync(node, "good", "streaming", Timeout);
        await pg.ExecuteAsync(db, "INSERT INTO public.ok VALUES (1, 1)");
        await CdcAgent.WaitForCountAsync(node, "cdc.good.public.ok", 1, Timeout);

        var (code, stdout, _) = await AgentProcess.RunToExitAsync(dir.Path, ["cdc", "status", "--http", $"127.0.0.1:{node.HttpPort}"]);
        Assert.Equal(0, code);
        Assert.Contains("good", stdout);
        Assert.Contains("streaming", stdout);
        Assert.Contains("failed", stdout);
    }

    [Fact]
    public async Task BadSource_UserWithoutReplication_FailsNamingTheGrant()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        var role = "weak_" + db[2..];
        await pg.ExecuteAsync(db, $"CREATE TABLE public.p (id int PRIMARY KEY); CREATE ROLE {role} LOGIN; GRANT SELECT ON public.p TO {role}");
        await using var node = await CdcAgent.StartAsync(dir.Path, $"weak=postgres://{role}@127.0.0.1:{pg.Port}/{db}?tables=public.p");
        await CdcAgent.WaitForStateAsync(node, "weak", "failed", Timeout);
        var reason = (await CdcAgent.SourceAsync(node, "weak"))!.Value.GetProperty("reason").GetString();
        Assert.Contains($"ALTER ROLE {role} REPLICATION", reason);
    }

    [Fact]
    public async Task Run_PasswordInUrl_RefusedNamingPasswordEnv()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = await AgentProcess.RunToExitAsync(dir.Path,
            AgentProcess.RunArgs(AgentProcess.FreePort(), "--data", dir.Path, "--cdc", "x=postgres://u:secret@127.0.0.1:5432/db?tables=public.t"));
        Assert.NotEqual(0, code);
        Assert.Contains("passwordEnv", stderr);
        Assert.DoesNotContain("secret", stderr);
    }
}
