using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Cdc.Tests;

/// <summary>Every type family round-trips to the JSON Debezium documents, the same from the snapshot and from the stream.</summary>
[Collection("postgres")]
public sealed class TypeMappingTests(PostgresServer pg)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const string Values = """
        true, 1, 2, 9007199254740993, 1.5, 'NaN', 12345.678, 12.34, 'héllo', 'v', 'ab', '\x0102ff',
        '2024-02-29', '13:45:30.123456', '13:45:30+02', '2024-02-29 13:45:30.123456', '2024-02-29 13:45:30.123',
        '2024-02-29 13:45:30.5+01', '1 year 2 months 3 days 04:05:06.5', '{"a": 1}', '{"b": [1, 2]}',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{{1,2},{3,4}}', ARRAY['a b', NULL, 'c"d'], 'happy', 5, 1.50, '10.0.0.1',
        ARRAY['2024-01-01'::date], '1970-01-01 00:00:00+00'
        """;

    [Fact]
    public async Task Types_SnapshotAndStream_MapAsDebeziumDocuments()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, $"""
            CREATE TYPE mood AS ENUM ('sad', 'happy');
            CREATE DOMAIN posint AS int CHECK (VALUE > 0);
            CREATE DOMAIN price AS numeric(8,2);
            CREATE TABLE public.types (
                id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric(10,3), m money,
                t text, vc varchar(10), ch char(3), by bytea, d date, tm time, ttz timetz, ts timestamp, ts3 timestamp(3),
                tstz timestamptz, iv interval, j json, jb jsonb, u uuid, ia int[], ta text[], e mood, dom posint, dp price, ip inet,
                da date[], epoch timestamptz);
            INSERT INTO public.types VALUES (1, {Values});
            """);
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("types", db, "tables=public.types"));
        await CdcAgent.WaitForStateAsync(node, "types", "streaming", Timeout);
        await pg.ExecuteAsync(db, $"INSERT INTO public.types VALUES (2, {Values})");

        const string topic = "cdc.types.public.types";
        await CdcAgent.WaitForCountAsync(node, topic, 2, Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, topic);
        Assert.Equal(["r", "c"], records.Select(r => r.Op));
        foreach (var record in records)
        {
            var a = record.After;
            Assert.True(a.GetProperty("b").GetBoolean());
            Assert.Equal(1, a.GetProperty("i2").GetInt32());
            Assert.Equal(9007199254740993L, a.GetProperty("i8").GetInt64());
            Assert.Equal(1.5, a.GetProperty("f4").GetDouble());
            Assert.Equal("NaN", a.GetProperty("f8").GetString());
            Assert.Equal("12345.678", a.GetProperty("num").GetString());
            Assert.Equal("12.34", a.GetProperty("m").GetString());
            Assert.Equal("héllo", a.GetProperty("t").GetString());
            Assert.Equal("ab ", a.GetProperty("ch").GetString());
            Assert.Equal(Convert.ToBase64String([1, 2, 255]), a.GetProperty("by").GetString());
            Assert.Equal(new DateOnly(2024, 2, 29).DayNumber - new DateOnly(1970, 1, 1).DayNumber, a.GetProperty("d").GetInt32());
            Assert.Equal(((13 * 60 + 45) * 60 + 30) * 1_000_000L + 123456, a.GetProperty("tm").GetInt64());
            Assert.Equal("11:45:30Z", a.GetProperty("ttz").GetString());
            var micros = (new DateTime(2024, 2, 29, 13, 45, 30, DateTimeKind.Utc) - DateTime.UnixEpoch).Ticks / 10;
            Assert.Equal(micros + 123456, a.GetProperty("ts").GetInt64());
            Assert.Equal((micros + 123000) / 1000, a.GetProperty("ts3").GetInt64()); // timestamp(3): milliseconds
            Assert.Equal("2024-02-29T12:45:30.500Z", a.GetProperty("tstz").GetString());
            Assert.Equal((long)Math.Round((14 * 30.4375 + 3) * 86_400_000_000) + ((4 * 60 + 5) * 60 + 6) * 1_000_000L + 500_000, a.GetProperty("iv").GetInt64());
            Assert.Equal("{\"a\": 1}", a.GetProperty("j").GetString());
            Assert.Equal("{\"b\": [1, 2]}", a.GetProperty("jb").GetString());
            Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", a.GetProperty("u").GetString());
            Assert.Equal("[[1,2],[3,4]]", a.GetProperty("ia").GetRawText());
            Assert.Equal("[\"a b\",null,\"c\\u0022d\"]", a.GetProperty("ta").GetRawText());
            Assert.Equal("happy", a.GetProperty("e").GetString());
            Assert.Equal(5, a.GetProperty("dom").GetInt32()); // a domain maps as its base type
            Assert.Equal("1.50", a.GetProperty("dp").GetString());
            Assert.Equal("10.0.0.1", a.GetProperty("ip").GetString());
            Assert.Equal(19723, a.GetProperty("da")[0].GetInt32());
            Assert.Equal("1970-01-01T00:00:00Z", a.GetProperty("epoch").GetString());
        }
        // The same values whether read by the snapshot (::text) or decoded from the WAL (pgoutput text).
        var snap = records[0].After.EnumerateObject().Where(p => p.Name != "id").Select(p => p.Value.GetRawText());
        var stream = records[1].After.EnumerateObject().Where(p => p.Name != "id").Select(p => p.Value.GetRawText());
        Assert.Equal(snap, stream);
    }

    [Fact]
    public async Task Update_UnchangedToastedValue_MarkedAsUnavailable()
    {
        using var dir = new TempDirectory();
        var db = await pg.CreateDatabaseAsync();
        await pg.ExecuteAsync(db, "CREATE TABLE public.docs (id int PRIMARY KEY, n int, body text)");
        await using var node = await CdcAgent.StartAsync(dir.Path, pg.Source("toast", db, "tables=public.docs"));
        await CdcAgent.WaitForStateAsync(node, "toast", "streaming", Timeout);
        // ~100 KB of poorly compressible text: stored out of line (TOAST).
        await pg.ExecuteAsync(db, "INSERT INTO public.docs SELECT 1, 1, string_agg(md5(i::text), '') FROM generate_series(1, 3000) i");
        await pg.ExecuteAsync(db, "UPDATE public.docs SET n = 2 WHERE id = 1");

        const string topic = "cdc.toast.public.docs";
        await CdcAgent.WaitForCountAsync(node, topic, 2, Timeout);
        var records = CdcRecord.ReadAll(node.Bootstrap, topic);
        Assert.Equal(96_000, records[0].After.GetProperty("body").GetString()!.Length);
        Assert.Equal(2, records[1].After.GetProperty("n").GetInt32());
        Assert.Equal("__debezium_unavailable_value", records[1].After.GetProperty("body").GetString());
    }
}
