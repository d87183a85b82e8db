using System.Buffers;
using System.Text;
using System.Text.Json;
using EdgeStream.Cdc.Mapping;

namespace EdgeStream.Cdc.Tests;

public sealed class MappingTests
{
    private static string Json(PgTypeInfo type, string? text, int typmod = -1)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer)) PgValueJson.Write(w, type, typmod, text);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("P1Y2M3DT4H5M6.5S", ((14 * 30.4375 + 3) * 86_400 + 4 * 3600 + 5 * 60 + 6.5) * 1e6)]
    [InlineData("PT0S", 0)]
    [InlineData("P-1D", -86_400e6)]
    [InlineData("PT-1H-30M", -5_400e6)]
    public void Interval_Iso8601_MicroDuration(string text, double micros) =>
        Assert.Equal((long)Math.Round(micros), PgTemporalText.ParseIntervalMicros(text));

    [Fact]
    public void Timestamps_BcAndOffsets_Handled()
    {
        Assert.Equal(0, PgTemporalText.ParseTimestampMicros("1970-01-01 00:00:00"));
        Assert.Equal(-1_000_000, PgTemporalText.ParseTimestampMicros("1969-12-31 23:59:59"));
        Assert.Equal("1970-01-01T00:00:00Z", PgTemporalText.FormatUtc(PgTemporalText.ParseTimestampTzMicros("1970-01-01 05:30:00+05:30")));
        Assert.Equal(PgTemporalText.ParseDateDays("0001-01-01") - 366, PgTemporalText.ParseDateDays("0001-01-01 BC"));
        Assert.Equal("23:30:00Z", PgTemporalText.FormatTimeUtc(PgTemporalText.ParseTimeTzUtcMicros("01:30:00+02")));
    }

    [Fact]
    public void Arrays_NestedQuotedNull_JsonArrays()
    {
        var ints = PgTypeInfo.BuiltIn(1007)!;
        Assert.Equal("[[1,2],[3,null]]", Json(ints, "{{1,2},{3,NULL}}"));
        Assert.Equal("[]", Json(ints, "{}"));
        Assert.Equal("[\"a,b\",\"\\\\\",\"NULL\"]", Json(PgTypeInfo.BuiltIn(1009)!, "{\"a,b\",\"\\\\\",\"NULL\"}"));
    }

    [Theory]
    [InlineData(790u, "-$1,234.50", "\"-1234.50\"")]
    [InlineData(1700u, "NaN", "\"NaN\"")]
    [InlineData(701u, "-Infinity", "\"-Infinity\"")]
    [InlineData(16u, "f", "false")]
    [InlineData(1184u, "infinity", "\"infinity\"")]
    [InlineData(17u, "\\x", "\"\"")]
    public void Scalars_Mapped(uint oid, string text, string json) => Assert.Equal(json, Json(PgTypeInfo.BuiltIn(oid)!, text));
}
