using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

[Collection("postgres")]
public sealed class LargeTransactionTests(PostgresServer pg)
{
    // Scaled from the 1 000 000 rows to 200 000 (2-core CI). logical_decoding_work_mem is
    // 64 kB on the test server, so PostgreSQL streams the transaction in progress (protocol v2)
    // after the first few hundred rows; the agent spools it to disk until the commit.
    private const int Rows = 200_000;
    private const long MaxRssBytes = 256L << 20;

    [Fact]
    public async Task OneTransaction_StreamedInProgress_AllRowsOnceRssBounded()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.bulk (id int8 PRIMARY KEY, v int8 NOT NULL, pad text)");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("bulk", db, "tables=public.bulk&heartbeat=1s"));
        await CdcAgent.WaitForStateAsync(node, "bulk", "streaming", TimeSpan.FromSeconds(60));
        await pg.ExecuteAsync(db, $"INSERT INTO public.bulk SELECT i, i, md5(i::text) FROM generate_series(1, {Rows}) i");
        try
        {
            await pg.WaitSlotCaughtUpAsync(db, "edgestream_bulk", TimeSpan.FromSeconds(Rows / 1000));
        }
        catch (Xunit.Sdk.XunitException ex)
        {
            Assert.Fail($"{ex.Message}\n{node.Process.Stdout[^Math.Min(6000, node.Process.Stdout.Length)..]}");
        }

        var peak = PeakRss(node.Process.Pid);
        var records = CdcRecord.ReadAll(node.Bootstrap, "cdc.bulk.public.bulk");
        Assert.Equal(Rows, records.Count);
        Assert.Single(records.Select(r => r.Lsn).Distinct()); // one transaction: one commit position
        Assert.Equal(Enumerable.Range(0, Rows), records.Select(r => r.Seq));
        Console.WriteLine($"large transaction: {Rows} rows, agent peak RSS {peak >> 20} MiB");
        Assert.True(peak < MaxRssBytes, $"agent peak RSS {peak >> 20} MiB over {MaxRssBytes >> 20} MiB");
    }

    /// <summary>VmHWM: the process's peak resident set.</summary>
    private static long PeakRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmHWM");
    }
}
