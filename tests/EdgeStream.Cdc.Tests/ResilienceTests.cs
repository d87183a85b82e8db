using Confluent.Kafka;
using Confluent.Kafka.Admin;
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
    public async Task TornChunk_LeftInTheLogByAKill_IsReadAgainWithoutTheRowsItWrote()
    {
        // A kill between two appends of one chunk leaves some of its rows in the log without the
        // chunk's end header (seen once in CI as 17 rows twice). Built here exactly: a second node's
        // log gets the first node's records up to the middle of chunk 2, then the source starts on it.
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.t (id int8 PRIMARY KEY, v int8 NOT NULL); INSERT INTO public.t SELECT i, i FROM generate_series(1, 300) i");
        var source = pg.Source("torn", db, "tables=public.t&chunkRows=100&heartbeat=1s");
        const string topic = "cdc.torn.public.t";
        List<CdcRecord> complete;
        await using (var node = await CdcAgent.StartAsync(first.Path, source))
        {
            await CdcAgent.WaitForStateAsync(node, "torn", "streaming", Timeout);
            complete = CdcRecord.ReadAll(node.Bootstrap, topic);
        }
        Assert.Equal(300, complete.Count);
        Assert.True(complete[99].Headers.ContainsKey("cdc.snapshot.cursor"), "chunk 1 ends at its 100th record");
        Assert.False(complete[149].Headers.ContainsKey("cdc.snapshot.cursor"));

        await using (var node = await AgentNode.StartAsync(second.Path))
            await ProduceAsync(node.Bootstrap, topic, complete.Take(150));
        await using var resumed = await CdcAgent.StartAsync(second.Path, source);
        await CdcAgent.WaitForStateAsync(resumed, "torn", "streaming", Timeout);
        var records = CdcRecord.ReadAll(resumed.Bootstrap, topic);
        CdcState.AssertNoDuplicates(records);
        var twice = records.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => g.Key).Take(10).ToList();
        Assert.True(twice.Count == 0, $"rows twice: {string.Join(", ", twice)}");
        Assert.Equal(300, records.Count);
        CdcState.AssertSame(await CdcState.TableAsync(pg, db, "public.t"), records);
        Assert.Contains("its 50 row(s) already in the log are not written again", resumed.Process.Stdout);
    }

    /// <summary>Copies records, headers and all, into a one-partition topic of <paramref name="bootstrap"/>.</summary>
    private static async Task ProduceAsync(string bootstrap, string topic, IEnumerable<CdcRecord> records)
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]);
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap, EnableIdempotence = true }).Build();
        foreach (var r in records)
        {
            var headers = new Headers();
            foreach (var (key, value) in r.Headers) headers.Add(key, System.Text.Encoding.UTF8.GetBytes(value));
            await producer.ProduceAsync(topic, new Message<byte[], byte[]>
            {
                Key = System.Text.Encoding.UTF8.GetBytes(r.Key!),
                Value = System.Text.Encoding.UTF8.GetBytes(r.Value!),
                Headers = headers,
            });
        }
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
