using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

[Collection("postgres")]
public sealed class CaptureTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Capture_InsertUpdateDeleteTruncate_DebeziumEnvelopesInCommitOrder()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, """
            CREATE TABLE public.items (id int PRIMARY KEY, name text, qty int);
            INSERT INTO public.items VALUES (1, 'one', 10), (2, 'two', 20);
            CREATE TABLE public.full_items (id int PRIMARY KEY, name text, qty int);
            ALTER TABLE public.full_items REPLICA IDENTITY FULL;
            INSERT INTO public.full_items VALUES (1, 'a', 1);
            """);
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("src", db, "tables=public.items,public.full_items&heartbeat=1s"));
        await CdcAgent.WaitForStateAsync(node, "src", "streaming", Timeout);

        // One statement per call: a multi-statement batch is one implicit transaction.
        await pg.ExecuteAsync(db, "INSERT INTO public.items VALUES (3, 'three', 30)");
        await pg.ExecuteAsync(db, "BEGIN; INSERT INTO public.items VALUES (4, 'four', 40); UPDATE public.items SET qty = 31 WHERE id = 3; COMMIT;");
        await pg.ExecuteAsync(db, "DELETE FROM public.items WHERE id = 1");
        await pg.ExecuteAsync(db, "UPDATE public.full_items SET qty = 2 WHERE id = 1");
        await pg.ExecuteAsync(db, "DELETE FROM public.full_items WHERE id = 1");
        await pg.ExecuteAsync(db, "TRUNCATE public.items");
        const string topic = "cdc.src.public.items";
        await CdcAgent.WaitForCountAsync(node, topic, 8, Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, topic);
        Assert.Equal(["r", "r", "c", "c", "u", "d", null, "t"], records.Select(r => r.Op));
        Assert.Equal("{\"id\":1}", records[0].Key);
        Assert.Equal("one", records[0].After.GetProperty("name").GetString());
        Assert.Equal("true", records[0].Envelope.GetProperty("source").GetProperty("snapshot").GetString());
        var update = records[4];
        Assert.Equal(31, update.After.GetProperty("qty").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, update.Before.ValueKind); // REPLICA IDENTITY DEFAULT: no before image
        var source = update.Envelope.GetProperty("source");
        Assert.Equal(db, source.GetProperty("db").GetString());
        Assert.Equal("public", source.GetProperty("schema").GetString());
        Assert.Equal("items", source.GetProperty("table").GetString());
        Assert.Equal("false", source.GetProperty("snapshot").GetString());
        Assert.True(source.GetProperty("txId").GetInt64() > 0);
        Assert.Equal((long)update.Lsn, source.GetProperty("lsn").GetInt64());
        // The two changes of one transaction: same commit LSN, begin/end headers on first and last.
        Assert.Equal(records[3].Lsn, records[4].Lsn);
        Assert.Equal("1", records[3].Headers["cdc.tx.begin"]);
        Assert.Equal("1", records[4].Headers["cdc.tx.end"]);
        var delete = records[5];
        Assert.Equal(1, delete.Before.GetProperty("id").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, delete.After.ValueKind);
        Assert.Equal("{\"id\":1}", records[6].Key);
        Assert.Null(records[6].Value); // tombstone
        Assert.Null(records[7].Key);

        const string fullTopic = "cdc.src.public.full_items";
        await CdcAgent.WaitForCountAsync(node, fullTopic, 4, Timeout);
        var full = CdcRecord.ReadAll(node.Bootstrap, fullTopic);
        Assert.Equal(["r", "u", "d", null], full.Select(r => r.Op));
        Assert.Equal("a", full[1].Before.GetProperty("name").GetString()); // REPLICA IDENTITY FULL: the whole old row
        Assert.Equal(1, full[1].Before.GetProperty("qty").GetInt32());
        Assert.Equal(2, full[2].Before.GetProperty("qty").GetInt32());

        // The same figures in /metrics: the source streaming, its rows counter as /v1/status shows it.
        var statusRows = (await CdcAgent.SourceAsync(node, "src"))!.Value.GetProperty("rows").GetInt64();
        Assert.True(statusRows >= 12, $"rows {statusRows}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/metrics");
        Assert.Equal(statusRows, MetricValue(metrics, "edgestream_cdc_rows_total", "source=\"src\""));
        Assert.Equal(1, MetricValue(metrics, "edgestream_cdc_sources", "state=\"streaming\""));
        Assert.Equal(0, MetricValue(metrics, "edgestream_cdc_sources", "state=\"failed\""));
    }

    private static long MetricValue(string text, string name, string label)
    {
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
        Assert.True(line is not null, $"no {name} with {label} in /metrics:\n{text}");
        return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
