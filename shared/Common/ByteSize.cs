using System.Globalization;

namespace EdgeStream;

/// <summary>Parses and prints human byte sizes such as <c>64MB</c>, <c>1.5GiB</c> or <c>4096</c>.</summary>
public static class ByteSize
{
    // Units are binary (1 KB = 1024 B): disk budgets and segment sizes are sized against
    // file systems, which count in powers of two.
    private static readonly (string Suffix, long Factor)[] s_units =
    [
        ("TIB", 1L << 40), ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10),
        ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10),
        ("T", 1L << 40), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("B", 1),
    ];

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().ToUpperInvariant();
        long factor = 1;
        foreach (var (suffix, f) in s_units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                factor = f;
                s = s[..^suffix.Length].TrimEnd();
                break;
            }
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value))
            return false;
        var total = value * factor;
        if (total > long.MaxValue) return false;
        bytes = (long)total;
        return true;
    }

    public static long Parse(string text, string settingName) =>
        TryParse(text, out var bytes)
            ? bytes
            : throw new ConfigurationException($"{settingName}: '{text}' is not a size (examples: 4096, 64MB, 1.5GiB).");

    public static string Format(long bytes)
    {
        if (bytes < 0) return bytes.ToString(CultureInfo.InvariantCulture);
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var i = 0;
        while (v >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return i == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {units[i]}");
    }
}
