using System.Globalization;

namespace EdgeStream.Mesh.Discovery;

/// <summary>
/// The TXT record of a node (RFC 6763 §6: one <c>key=value</c> string per item): <c>txtvers</c>, role,
/// node id, cluster, the ports a peer needs, and the options' extra properties.
/// </summary>
public static class MdnsTxt
{
    /// <summary>The whole record (each string with its length byte) stays under this many bytes, so a response carrying it stays small.</summary>
    public const int MaxLength = 200;

    public const string VersionKey = "txtvers";
    public const string RoleKey = "role";
    public const string NodeIdKey = "id";
    public const string ClusterKey = "cluster";
    public const string UplinkKey = "uplink";
    public const string GossipKey = "gossip";
    public const string Version = "1";

    /// <summary>The TXT strings for <paramref name="options"/>; throws <see cref="ArgumentException"/> when a key is bad or the record is <see cref="MaxLength"/> bytes or more.</summary>
    public static List<string> Build(MdnsOptions options)
    {
        // txtvers first (RFC 6763 §6.7); the rest in a fixed order so that equal options give equal bytes.
        var strings = new List<string>
        {
            $"{VersionKey}={Version}",
            $"{RoleKey}={options.Role}",
            $"{NodeIdKey}={options.NodeId}",
            $"{ClusterKey}={options.Cluster}",
        };
        if (options.UplinkPort > 0) strings.Add($"{UplinkKey}={options.UplinkPort.ToString(CultureInfo.InvariantCulture)}");
        if (options.GossipPort > 0) strings.Add($"{GossipKey}={options.GossipPort.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (key, value) in options.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key.Length == 0 || key.Length > 9 || !IsPrintableAscii(key) || key.Contains('='))
                throw new ArgumentException($"mDNS: TXT key '{key}' must be 1-9 printable ASCII characters without '=' (RFC 6763 §6.4)");
            if (!IsPrintableAscii(value)) throw new ArgumentException($"mDNS: TXT value of '{key}' must be printable ASCII");
            if (IsReserved(key)) throw new ArgumentException($"mDNS: TXT key '{key}' is set by EdgeStream itself");
            strings.Add($"{key}={value}");
        }
        var length = Length(strings);
        if (length >= MaxLength) throw new ArgumentException($"mDNS: the TXT record would be {length} bytes; it must stay under {MaxLength}");
        return strings;
    }

    /// <summary>Wire length of the strings: one length byte each plus the characters (all ASCII).</summary>
    public static int Length(IEnumerable<string> strings)
    {
        var total = 0;
        foreach (var s in strings) total += 1 + s.Length;
        return total;
    }

    /// <summary>
    /// The keys and values of TXT strings. RFC 6763 §6.4: keys are case-insensitive and only the first
    /// occurrence of a key counts; a string without <c>=</c> is a boolean attribute (empty value here).
    /// </summary>
    public static Dictionary<string, string> Parse(IEnumerable<string> strings)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in strings)
        {
            var eq = s.IndexOf('=');
            var key = eq < 0 ? s : s[..eq];
            if (key.Length == 0) continue; // §6.4: a string starting with '=' is ignored
            result.TryAdd(key, eq < 0 ? "" : s[(eq + 1)..]);
        }
        return result;
    }

    /// <summary>A port from a TXT value; 0 when absent or not a port.</summary>
    public static int ParsePort(IReadOnlyDictionary<string, string> txt, string key) =>
        txt.TryGetValue(key, out var text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port : 0;

    private static bool IsReserved(string key) =>
        key.Equals(VersionKey, StringComparison.OrdinalIgnoreCase) || key.Equals(RoleKey, StringComparison.OrdinalIgnoreCase)
        || key.Equals(NodeIdKey, StringComparison.OrdinalIgnoreCase) || key.Equals(ClusterKey, StringComparison.OrdinalIgnoreCase)
        || key.Equals(UplinkKey, StringComparison.OrdinalIgnoreCase) || key.Equals(GossipKey, StringComparison.OrdinalIgnoreCase);

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
            if (c is < ' ' or > '~') return false;
        return true;
    }
}
