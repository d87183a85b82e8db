using System.Globalization;
using System.Text;

namespace EdgeStream.Cdc.Mapping;

/// <summary>
/// The date/time text forms PostgreSQL writes under <c>DateStyle=ISO</c> and
/// <c>IntervalStyle=iso_8601</c> (both set on every connection of a source), turned into the numbers
/// and strings Debezium documents. Not <see cref="DateTime"/>: PostgreSQL's range (4713 BC to
/// 294276 AD) is wider than .NET's.
/// </summary>
public static class PgTemporalText
{
    private const long MicrosPerSecond = 1_000_000;
    private const long MicrosPerDay = 86_400 * MicrosPerSecond;

    /// <summary>Days since 1970-01-01 of <c>YYYY-MM-DD[ BC]</c>.</summary>
    public static long ParseDateDays(string s)
    {
        var bc = s.EndsWith(" BC", StringComparison.Ordinal);
        if (bc) s = s[..^3];
        var parts = s.Split('-');
        if (parts.Length != 3) throw new FormatException($"unexpected date '{s}'");
        var year = long.Parse(parts[0], CultureInfo.InvariantCulture);
        if (bc) year = 1 - year;
        return DaysFromCivil(year, int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Microseconds since midnight of <c>HH:MM:SS[.ffffff]</c>.</summary>
    public static long ParseTimeMicros(ReadOnlySpan<char> s)
    {
        if (s.Length < 8 || s[2] != ':' || s[5] != ':') throw new FormatException($"unexpected time '{s}'");
        long h = int.Parse(s[..2], CultureInfo.InvariantCulture), m = int.Parse(s[3..5], CultureInfo.InvariantCulture), sec = int.Parse(s[6..8], CultureInfo.InvariantCulture);
        long micros = 0;
        if (s.Length > 8)
        {
            if (s[8] != '.') throw new FormatException($"unexpected time '{s}'");
            var frac = s[9..];
            for (var i = 0; i < 6; i++) micros = micros * 10 + (i < frac.Length ? frac[i] - '0' : 0);
        }
        return ((h * 60 + m) * 60 + sec) * MicrosPerSecond + micros;
    }

    /// <summary>Microseconds since the epoch of a timestamp without time zone, <c>YYYY-MM-DD HH:MM:SS[.f][ BC]</c>.</summary>
    public static long ParseTimestampMicros(string s)
    {
        var bc = s.EndsWith(" BC", StringComparison.Ordinal);
        if (bc) s = s[..^3];
        var space = s.IndexOf(' ');
        if (space < 0) throw new FormatException($"unexpected timestamp '{s}'");
        var days = ParseDateDays(bc ? s[..space] + " BC" : s[..space]);
        return days * MicrosPerDay + ParseTimeMicros(s.AsSpan(space + 1));
    }

    /// <summary>Microseconds since the epoch, UTC, of <c>YYYY-MM-DD HH:MM:SS[.f]+HH[:MM[:SS]][ BC]</c>.</summary>
    public static long ParseTimestampTzMicros(string s)
    {
        var bc = s.EndsWith(" BC", StringComparison.Ordinal);
        if (bc) s = s[..^3];
        var sign = s.LastIndexOfAny(['+', '-']);
        if (sign < 11) throw new FormatException($"unexpected timestamptz '{s}'");
        var local = ParseTimestampMicros(bc ? s[..sign] + " BC" : s[..sign]);
        return local - OffsetMicros(s.AsSpan(sign));
    }

    /// <summary>Microseconds since midnight UTC of a <c>timetz</c>: <c>HH:MM:SS[.f]+HH[:MM[:SS]]</c>.</summary>
    public static long ParseTimeTzUtcMicros(string s)
    {
        var sign = s.LastIndexOfAny(['+', '-']);
        if (sign < 8) throw new FormatException($"unexpected timetz '{s}'");
        var utc = ParseTimeMicros(s.AsSpan(0, sign)) - OffsetMicros(s.AsSpan(sign));
        return ((utc % MicrosPerDay) + MicrosPerDay) % MicrosPerDay;
    }

    private static long OffsetMicros(ReadOnlySpan<char> s)
    {
        var negative = s[0] == '-';
        s = s[1..];
        long seconds = 0;
        var unit = 3600;
        foreach (var range in s.Split(':'))
        {
            seconds += int.Parse(s[range], CultureInfo.InvariantCulture) * unit;
            unit /= 60;
        }
        return (negative ? -seconds : seconds) * MicrosPerSecond;
    }

    /// <summary>
    /// An ISO-8601 interval (<c>P1Y2M3DT4H5M6.5S</c>, each part signed) in microseconds, a month being
    /// 365.25/12 days as in Debezium's MicroDuration.
    /// </summary>
    public static long ParseIntervalMicros(string s)
    {
        if (s.Length < 2 || s[0] != 'P') throw new FormatException($"unexpected interval '{s}'");
        double months = 0, days = 0;
        long micros = 0;
        var inTime = false;
        var i = 1;
        while (i < s.Length)
        {
            if (s[i] == 'T') { inTime = true; i++; continue; }
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] is '-' or '+' or '.')) i++;
            if (i >= s.Length) throw new FormatException($"unexpected interval '{s}'");
            var number = s.AsSpan(start, i - start);
            var unit = s[i++];
            switch (inTime, unit)
            {
                case (false, 'Y'): months += 12 * long.Parse(number, CultureInfo.InvariantCulture); break;
                case (false, 'M'): months += long.Parse(number, CultureInfo.InvariantCulture); break;
                case (false, 'W'): days += 7 * long.Parse(number, CultureInfo.InvariantCulture); break;
                case (false, 'D'): days += long.Parse(number, CultureInfo.InvariantCulture); break;
                case (true, 'H'): micros += long.Parse(number, CultureInfo.InvariantCulture) * 3600 * MicrosPerSecond; break;
                case (true, 'M'): micros += long.Parse(number, CultureInfo.InvariantCulture) * 60 * MicrosPerSecond; break;
                case (true, 'S'): micros += (long)Math.Round(decimal.Parse(number, CultureInfo.InvariantCulture) * MicrosPerSecond); break;
                default: throw new FormatException($"unexpected interval '{s}'");
            }
        }
        return (long)Math.Round((months * (365.25 / 12) + days) * MicrosPerDay) + micros;
    }

    /// <summary>ISO-8601 <c>YYYY-MM-DDTHH:MM:SS[.ffffff]Z</c> of microseconds since the epoch, fraction trimmed as java.time prints it.</summary>
    public static string FormatUtc(long micros)
    {
        var days = FloorDiv(micros, MicrosPerDay);
        var (y, m, d) = CivilFromDays(days);
        var sb = new StringBuilder(32);
        if (y is < 0 or > 9999) sb.Append(y < 0 ? '-' : '+').Append(Math.Abs(y).ToString("0000", CultureInfo.InvariantCulture));
        else sb.Append(y.ToString("0000", CultureInfo.InvariantCulture));
        sb.Append('-').Append(m.ToString("00", CultureInfo.InvariantCulture)).Append('-').Append(d.ToString("00", CultureInfo.InvariantCulture)).Append('T');
        AppendTime(sb, micros - days * MicrosPerDay);
        return sb.Append('Z').ToString();
    }

    /// <summary><c>HH:MM:SS[.ffffff]Z</c> of microseconds since midnight UTC.</summary>
    public static string FormatTimeUtc(long micros) => AppendTime(new StringBuilder(20), micros).Append('Z').ToString();

    private static StringBuilder AppendTime(StringBuilder sb, long micros)
    {
        var seconds = micros / MicrosPerSecond;
        var fraction = micros % MicrosPerSecond;
        sb.Append((seconds / 3600).ToString("00", CultureInfo.InvariantCulture)).Append(':')
          .Append((seconds / 60 % 60).ToString("00", CultureInfo.InvariantCulture)).Append(':')
          .Append((seconds % 60).ToString("00", CultureInfo.InvariantCulture));
        if (fraction != 0)
        {
            // java.time's ISO formatter prints 3, 6 or 9 digits, the fewest that hold the value.
            sb.Append('.').Append(fraction % 1000 == 0 ? (fraction / 1000).ToString("000", CultureInfo.InvariantCulture) : fraction.ToString("000000", CultureInfo.InvariantCulture));
        }
        return sb;
    }

    internal static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, astronomical years).
    internal static long DaysFromCivil(long y, int m, int d)
    {
        y -= m <= 2 ? 1 : 0;
        var era = (y >= 0 ? y : y - 399) / 400;
        var yoe = y - era * 400;
        var doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        var doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    internal static (long Year, int Month, int Day) CivilFromDays(long z)
    {
        z += 719468;
        var era = (z >= 0 ? z : z - 146096) / 146097;
        var doe = z - era * 146097;
        var yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        var y = yoe + era * 400;
        var doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        var mp = (5 * doy + 2) / 153;
        var d = (int)(doy - (153 * mp + 2) / 5 + 1);
        var m = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (y + (m <= 2 ? 1 : 0), m, d);
    }
}
