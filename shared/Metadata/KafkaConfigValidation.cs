using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace EdgeStream.Metadata;

/// <summary>
/// Checks a value against a <see cref="KafkaConfigDefinition"/> as Kafka's ConfigDef does: first the
/// type, then the valid values, with Kafka's wording (tools and test suites match on it).
/// </summary>
internal static partial class KafkaConfigValidation
{
    public static string? Check(KafkaConfigDefinition definition, string value)
    {
        var text = value.Trim();
        switch (definition.Type)
        {
            case ConfigValueType.Boolean:
                return text.Equals("true", StringComparison.OrdinalIgnoreCase) || text.Equals("false", StringComparison.OrdinalIgnoreCase)
                    ? null : "Expected value to be either true or false";
            case ConfigValueType.Short or ConfigValueType.Int or ConfigValueType.Long:
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n < MinOf(definition.Type) || n > MaxOf(definition.Type))
                    return $"Not a number of type {TypeName(definition.Type)}";
                return CheckRange(definition.ValidValues, n);
            case ConfigValueType.Double:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    return "Not a number of type DOUBLE";
                return CheckRange(definition.ValidValues, d);
            case ConfigValueType.List:
                foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (CheckWord(definition.ValidValues, item) is { } reason) return reason;
                return definition.ValidValues == "throttled-replicas" ? CheckThrottledReplicas(text) : null;
            default:
                return CheckWord(definition.ValidValues, text);
        }
    }

    // "[a,...]" is Range.atLeast(a), "[a,...,b]" Range.between(a, b); "[a,...,b] or -1" also takes -1
    // (the gzip level, whose -1 means the codec's default). Bounds are quoted as the table writes them.
    private static string? CheckRange<T>(string valid, T value) where T : struct, INumber<T>
    {
        if (!valid.StartsWith('[') || !valid.Contains(",...", StringComparison.Ordinal)) return null;
        var orMinusOne = valid.EndsWith(" or -1", StringComparison.Ordinal);
        var range = (orMinusOne ? valid[..^" or -1".Length] : valid).Trim('[', ']');
        var bounds = range.Split(",...", StringSplitOptions.None);
        var min = bounds[0];
        var max = bounds[1].TrimStart(',');
        if (orMinusOne)
            return value == -T.One || (value >= Parse<T>(min) && value <= Parse<T>(max)) ? null : $"Value must be between {min} and {max} or equal to -1";
        if (value < Parse<T>(min)) return $"Value must be at least {min}";
        if (max.Length > 0 && value > Parse<T>(max)) return $"Value must be no more than {max}";
        return null;
    }

    // "[x, y, z]" is ValidString.in (for a list, ValidList.in: every item); "version" a Kafka version.
    private static string? CheckWord(string valid, string value)
    {
        if (valid == "version")
            return VersionPattern().IsMatch(value) ? null : $"Version {value} is not a valid version";
        if (!valid.StartsWith('[') || valid.Contains(",...", StringComparison.Ordinal)) return null;
        var allowed = valid.Trim('[', ']').Split(',', StringSplitOptions.TrimEntries);
        return Array.IndexOf(allowed, value) >= 0 ? null : $"String must be one of: {string.Join(", ", allowed)}";
    }

    /// <summary>Empty, <c>*</c>, or a list of <c>partition:broker</c> pairs.</summary>
    private static string? CheckThrottledReplicas(string text)
    {
        if (text.Length == 0 || text == "*") return null;
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
                return "must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";
        }
        return null;
    }

    private static T Parse<T>(string text) where T : INumber<T> => T.Parse(text, NumberStyles.Float | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static long MinOf(ConfigValueType type) => type switch { ConfigValueType.Short => short.MinValue, ConfigValueType.Int => int.MinValue, _ => long.MinValue };

    private static long MaxOf(ConfigValueType type) => type switch { ConfigValueType.Short => short.MaxValue, ConfigValueType.Int => int.MaxValue, _ => long.MaxValue };

    private static string TypeName(ConfigValueType type) => type switch { ConfigValueType.Short => "SHORT", ConfigValueType.Int => "INT", _ => "LONG" };

    // Kafka's versions: 0.8.0 up to 3.9, optionally with an inter-broker protocol step (3.0-IV1).
    [GeneratedRegex(@"^[0-3]\.\d+(\.\d+)?(-IV\d+)?$")]
    private static partial Regex VersionPattern();
}
