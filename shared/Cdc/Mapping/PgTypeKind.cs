namespace EdgeStream.Cdc.Mapping;

/// <summary>How a PostgreSQL type's text form becomes JSON, after Debezium's PostgreSQL connector
/// (decimal.handling.mode=string, time.precision.mode=adaptive, interval.handling.mode=numeric,
/// binary.handling.mode=bytes, i.e. base64 in JSON).</summary>
public enum PgTypeKind
{
    /// <summary>A JSON string of the text form: text, varchar, char, name, enums, inet, xml, uuid, json(b) (io.debezium.data.Json), anything unknown.</summary>
    String,
    Boolean,
    /// <summary>int2/int4/int8/oid: a JSON number.</summary>
    Integer,
    /// <summary>float4/float8: a JSON number; NaN and infinities as strings (JSON has no literal for them).</summary>
    Float,
    /// <summary>numeric and money: the exact decimal as a string.</summary>
    Decimal,
    /// <summary>bytea: base64.</summary>
    Bytes,
    /// <summary>date: days since 1970-01-01 (io.debezium.time.Date).</summary>
    Date,
    /// <summary>time: microseconds since midnight (io.debezium.time.MicroTime).</summary>
    Time,
    /// <summary>timetz: ISO-8601 time in UTC (io.debezium.time.ZonedTime).</summary>
    TimeTz,
    /// <summary>timestamp: microseconds since the epoch (io.debezium.time.MicroTimestamp), milliseconds when the precision is 0-3 (Timestamp).</summary>
    Timestamp,
    /// <summary>timestamptz: ISO-8601 in UTC (io.debezium.time.ZonedTimestamp).</summary>
    TimestampTz,
    /// <summary>interval: microseconds, a month being 30.4375 days (io.debezium.time.MicroDuration).</summary>
    Interval,
    /// <summary>An array: a JSON array of its elements' mapping.</summary>
    Array,
}

/// <summary>A column type resolved to its mapping: domains to their base type, arrays to their element.</summary>
public sealed record PgTypeInfo(PgTypeKind Kind, PgTypeInfo? Element = null, char ArrayDelimiter = ',')
{
    public static readonly PgTypeInfo Text = new(PgTypeKind.String);

    /// <summary>The built-in types by oid (pg_type.dat); null for a type to look up in pg_type (domains, enums, arrays of those).</summary>
    public static PgTypeInfo? BuiltIn(uint oid) => oid switch
    {
        16 => new(PgTypeKind.Boolean),
        17 => new(PgTypeKind.Bytes),
        20 or 21 or 23 or 26 => new(PgTypeKind.Integer),
        700 or 701 => new(PgTypeKind.Float),
        790 or 1700 => new(PgTypeKind.Decimal),
        1082 => new(PgTypeKind.Date),
        1083 => new(PgTypeKind.Time),
        1266 => new(PgTypeKind.TimeTz),
        1114 => new(PgTypeKind.Timestamp),
        1184 => new(PgTypeKind.TimestampTz),
        1186 => new(PgTypeKind.Interval),
        18 or 19 or 25 or 114 or 142 or 650 or 829 or 869 or 1042 or 1043 or 2950 or 3802 or 1560 or 1562 or 3614 => Text,
        1000 => ArrayOf(16), 1001 => ArrayOf(17), 1005 => ArrayOf(21), 1007 => ArrayOf(23), 1016 => ArrayOf(20),
        1021 => ArrayOf(700), 1022 => ArrayOf(701), 1231 => ArrayOf(1700), 791 => ArrayOf(790),
        1182 => ArrayOf(1082), 1183 => ArrayOf(1083), 1270 => ArrayOf(1266), 1115 => ArrayOf(1114), 1185 => ArrayOf(1184), 1187 => ArrayOf(1186),
        1009 or 1014 or 1015 or 1003 or 199 or 3807 or 2951 or 143 or 1041 or 651 or 1040 => new(PgTypeKind.Array, Text),
        _ => null,
    };

    private static PgTypeInfo ArrayOf(uint element) => new(PgTypeKind.Array, BuiltIn(element));
}
