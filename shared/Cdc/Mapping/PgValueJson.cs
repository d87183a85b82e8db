using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace EdgeStream.Cdc.Mapping;

/// <summary>Writes one column value, given in PostgreSQL's text form, as the JSON Debezium documents for its type.</summary>
public static class PgValueJson
{
    /// <summary>Debezium's placeholder for a TOASTed value an UPDATE left unchanged (unavailable.value.placeholder).</summary>
    public const string UnchangedToast = "__debezium_unavailable_value";

    /// <param name="typmod">The column's type modifier (precision of timestamps), -1 when none.</param>
    public static void Write(Utf8JsonWriter w, PgTypeInfo type, int typmod, string? text)
    {
        if (text is null) { w.WriteNullValue(); return; }
        switch (type.Kind)
        {
            case PgTypeKind.Boolean:
                w.WriteBooleanValue(text is "t" or "true");
                return;
            case PgTypeKind.Integer:
                w.WriteNumberValue(long.Parse(text, CultureInfo.InvariantCulture));
                return;
            case PgTypeKind.Float:
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(text);
                return;
            case PgTypeKind.Decimal:
                w.WriteStringValue(DecimalText(text));
                return;
            case PgTypeKind.Bytes:
                w.WriteBase64StringValue(Hex(text));
                return;
            case PgTypeKind.Date when !IsInfinity(text):
                w.WriteNumberValue(PgTemporalText.ParseDateDays(text));
                return;
            case PgTypeKind.Time:
                w.WriteNumberValue(PgTemporalText.ParseTimeMicros(text));
                return;
            case PgTypeKind.TimeTz:
                w.WriteStringValue(PgTemporalText.FormatTimeUtc(PgTemporalText.ParseTimeTzUtcMicros(text)));
                return;
            case PgTypeKind.Timestamp when !IsInfinity(text):
                var micros = PgTemporalText.ParseTimestampMicros(text);
                // time.precision.mode=adaptive: timestamp(0..3) is io.debezium.time.Timestamp (ms), otherwise MicroTimestamp.
                w.WriteNumberValue(typmod is >= 0 and <= 3 ? PgTemporalText.FloorDiv(micros, 1000) : micros);
                return;
            case PgTypeKind.TimestampTz when !IsInfinity(text):
                w.WriteStringValue(PgTemporalText.FormatUtc(PgTemporalText.ParseTimestampTzMicros(text)));
                return;
            case PgTypeKind.Interval:
                w.WriteNumberValue(PgTemporalText.ParseIntervalMicros(text));
                return;
            case PgTypeKind.Array:
                WriteArray(w, type.Element ?? PgTypeInfo.Text, typmod, PgArrayText.Parse(text, type.ArrayDelimiter));
                return;
            default:
                w.WriteStringValue(text);
                return;
        }
    }

    /// <summary>
    /// As the string form, from the value's UTF-8 text as pgoutput sends it: integers, floats, plain
    /// decimals, booleans and text go from the bytes to the writer without a string per value; the
    /// rest (and anything unexpected, so errors stay the same) through the string form.
    /// </summary>
    public static void Write(Utf8JsonWriter w, PgTypeInfo type, int typmod, ReadOnlySpan<byte> utf8)
    {
        switch (type.Kind)
        {
            case PgTypeKind.Boolean:
                w.WriteBooleanValue(utf8.SequenceEqual("t"u8) || utf8.SequenceEqual("true"u8));
                return;
            case PgTypeKind.Integer when long.TryParse(utf8, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n):
                w.WriteNumberValue(n);
                return;
            case PgTypeKind.Float when double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d):
                w.WriteNumberValue(d);
                return;
            // Invalid UTF-8 goes the string way, which writes U+FFFD where the byte form would throw.
            case PgTypeKind.Decimal when IsPlainDecimal(utf8) && Utf8.IsValid(utf8):
            case PgTypeKind.String when Utf8.IsValid(utf8):
                w.WriteStringValue(utf8);
                return;
        }
        Write(w, type, typmod, Encoding.UTF8.GetString(utf8));
    }

    // The condition under which DecimalText returns the text unchanged.
    private static bool IsPlainDecimal(ReadOnlySpan<byte> utf8) =>
        utf8.Length > 0 && char.IsAsciiDigit((char)utf8[^1]) && (char.IsAsciiDigit((char)utf8[0]) || utf8[0] == '-') && !utf8.Contains((byte)',') && !utf8.Contains((byte)'$');

    private static void WriteArray(Utf8JsonWriter w, PgTypeInfo element, int typmod, List<PgArrayText.Item> items)
    {
        w.WriteStartArray();
        foreach (var item in items)
        {
            if (item.Nested is not null) WriteArray(w, element, typmod, item.Nested);
            else Write(w, element, typmod, item.Text);
        }
        w.WriteEndArray();
    }

    private static bool IsInfinity(string text) => text is "infinity" or "-infinity";

    // money's text form carries the locale's currency symbol and grouping ("$1,234.56", "-$1.00").
    private static string DecimalText(string text)
    {
        if (char.IsAsciiDigit(text[^1]) && (char.IsAsciiDigit(text[0]) || text[0] == '-') && !text.Contains(',') && !text.Contains('$')) return text;
        Span<char> buffer = stackalloc char[text.Length];
        var n = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c) || c is '.' or '-' or 'N' or 'a' or 'I' or 'n' or 'f' or 'i' or 't' or 'y') buffer[n++] = c;
        }
        return new string(buffer[..n]);
    }

    // bytea_output=hex: "\x0aff...".
    private static byte[] Hex(string text)
    {
        if (text.StartsWith("\\x", StringComparison.Ordinal)) return Convert.FromHexString(text.AsSpan(2));
        throw new FormatException("bytea not in hex output form (set bytea_output=hex)");
    }
}
