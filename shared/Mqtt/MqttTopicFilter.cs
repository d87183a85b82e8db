namespace EdgeStream.Mqtt;

/// <summary>MQTT topic filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7): '/'-separated levels, '+' one level, '#' the rest.</summary>
public static class MqttTopicFilter
{
    /// <summary>Null when <paramref name="filter"/> is a valid filter, else why not.</summary>
    public static string? Validate(string filter)
    {
        if (string.IsNullOrEmpty(filter)) return "empty";
        if (filter.Contains('\0')) return "contains U+0000";
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#') && (level != "#" || i != levels.Length - 1))
                return "'#' must be a whole level and the last one";
            if (level.Contains('+') && level != "+")
                return "'+' must be a whole level";
        }
        return null;
    }

    /// <summary>True when the topic name <paramref name="topic"/> matches <paramref name="filter"/>.</summary>
    public static bool Matches(string filter, string topic)
    {
        // §4.7.2: wildcards at the first level do not match topics beginning with '$'.
        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#'))) return false;
        var f = filter.AsSpan();
        var t = topic.AsSpan();
        while (true)
        {
            var fEnd = f.IndexOf('/');
            var fLevel = fEnd < 0 ? f : f[..fEnd];
            if (fLevel is "#") return true; // matches the parent level too: 'a/#' matches 'a'
            var tEnd = t.IndexOf('/');
            var tLevel = tEnd < 0 ? t : t[..tEnd];
            if (!(fLevel is "+" || fLevel.SequenceEqual(tLevel))) return false;
            if (fEnd < 0 && tEnd < 0) return true;
            if (fEnd < 0) return false;                       // topic has more levels
            if (tEnd < 0) return f[(fEnd + 1)..] is "#";      // 'a/#' matches 'a'
            f = f[(fEnd + 1)..];
            t = t[(tEnd + 1)..];
        }
    }
    /// <summary>
    /// Whether every topic <paramref name="filter"/> matches is matched by <paramref name="rule"/> too
    /// (wildcards in <paramref name="filter"/> are wildcards, not characters).
    /// </summary>
    public static bool Covers(string rule, string filter)
    {
        var r = rule.Split('/');
        var f = filter.Split('/');
        for (var i = 0; i < r.Length; i++)
        {
            if (r[i] == "#") return true;
            if (i >= f.Length) return false;
            if (f[i] == "#") return false;
            if (r[i] != "+" && r[i] != f[i]) return false;
        }
        return r.Length == f.Length;
    }

    /// <summary>Whether some topic matches both filters.</summary>
    public static bool Intersects(string a, string b)
    {
        var x = a.Split('/');
        var y = b.Split('/');
        for (var i = 0; ; i++)
        {
            if (i == x.Length || i == y.Length)
                return x.Length == y.Length || (i < x.Length && x[i] == "#") || (i < y.Length && y[i] == "#");
            if (x[i] == "#" || y[i] == "#") return true;
            if (x[i] != "+" && y[i] != "+" && x[i] != y[i]) return false;
        }
    }
}
