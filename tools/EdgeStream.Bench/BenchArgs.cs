using System.Globalization;

namespace EdgeStream.Bench;

/// <summary>--key value pairs for a scenario, with typed defaults.</summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static BenchArgs Parse(ReadOnlySpan<string> args)
    {
        var result = new BenchArgs();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"expected --key value, got '{args[i]}'");
            result._values[args[i][2..]] = args[++i];
        }
        return result;
    }

    public int Int(string key, int fallback) => _values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public string String(string key, string fallback) => _values.GetValueOrDefault(key, fallback);
}
