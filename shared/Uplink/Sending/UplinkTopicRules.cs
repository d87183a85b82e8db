namespace EdgeStream.Uplink.Sending;

/// <summary>
/// Which local topics go up and what they are called at the parent. A topic goes up when its name
/// matches one of <see cref="Globs"/> (<c>*</c> any run, <c>?</c> one character) and does not start
/// with <c>__</c> (internal topics such as consumer offsets stay local). Its target name is the
/// rename rule's destination when one names it exactly, else <see cref="Prefix"/> + name.
/// </summary>
public sealed class UplinkTopicRules
{
    private readonly Dictionary<string, string> _renames;

    public UplinkTopicRules(IReadOnlyList<string> globs, string? prefix, IReadOnlyList<KeyValuePair<string, string>> renames)
    {
        Globs = globs.Count == 0 ? ["*"] : globs;
        Prefix = prefix ?? "";
        _renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (source, target) in renames) _renames[source] = target;
    }

    /// <summary>Every non-internal topic, names unchanged.</summary>
    public static UplinkTopicRules All { get; } = new(["*"], null, []);

    public IReadOnlyList<string> Globs { get; }
    public string Prefix { get; }

    /// <summary>True when <paramref name="topic"/> is forwarded.</summary>
    public bool Includes(string topic)
    {
        if (topic.StartsWith("__", StringComparison.Ordinal)) return false;
        foreach (var glob in Globs)
        {
            if (GlobMatch(glob, topic)) return true;
        }
        return false;
    }

    /// <summary>The topic name at the parent.</summary>
    public string TargetOf(string topic) => _renames.TryGetValue(topic, out var target) ? target : Prefix + topic;

    /// <summary>Glob match with <c>*</c> (any run, also empty) and <c>?</c> (one character); iterative, no backtracking blow-up.</summary>
    public static bool GlobMatch(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
