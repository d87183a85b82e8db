using System.Globalization;

namespace EdgeStream;

/// <summary>Parses durations such as <c>250ms</c>, <c>30s</c>, <c>15m</c>, <c>12h</c>, <c>7d</c>; a bare number is milliseconds (Kafka's *.ms convention).</summary>
public static class DurationText
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().ToLowerInvariant();
        double factorMs = 1;
        string number = s;
        if (s.EndsWith("ms", StringComparison.Ordinal)) { number = s[..^2]; }
        else if (s.EndsWith('s')) { number = s[..^1]; factorMs = 1000; }
        else if (s.EndsWith('m')) { number = s[..^1]; factorMs = 60_000; }
        else if (s.EndsWith('h')) { number = s[..^1]; factorMs = 3_600_000; }
        else if (s.EndsWith('d')) { number = s[..^1]; factorMs = 86_400_000; }
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < 0 || double.IsNaN(v))
            return false;
        var ms = v * factorMs;
        if (ms > TimeSpan.MaxValue.TotalMilliseconds) return false;
        duration = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    public static TimeSpan Parse(string text, string settingName) =>
        TryParse(text, out var d)
            ? d
            : throw new ConfigurationException($"{settingName}: '{text}' is not a duration (examples: 250ms, 30s, 15m, 12h, 7d).");
}
