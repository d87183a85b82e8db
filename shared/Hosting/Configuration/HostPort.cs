using System.Globalization;
using System.Net;

namespace EdgeStream.Hosting.Configuration;

/// <summary>
/// A <c>HOST:PORT</c> pair as written by an operator: <c>0.0.0.0:9092</c>, <c>localhost:9094</c>,
/// <c>[::1]:1883</c>, <c>gw.example:9095</c>. Port 1–65535; IPv6 literals are bracketed.
/// </summary>
public readonly record struct HostPort(string Host, int Port)
{
    public static bool TryParse(string? text, out HostPort value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim();
        string host;
        string portText;
        if (s.StartsWith('['))
        {
            // "[" IPv6 "]" ":" port
            var close = s.IndexOf(']');
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':') return false;
            host = s[1..close];
            portText = s[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
        }
        else
        {
            var colon = s.LastIndexOf(':');
            if (colon <= 0 || s.IndexOf(':') != colon) return false;
            host = s[..colon];
            portText = s[(colon + 1)..];
            if (!IsHostName(host)) return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            return false;
        value = new HostPort(host, port);
        return true;
    }

    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253) return false;
        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '*')) return false;
        }
        return host == "*" || !host.Contains('*');
    }

    /// <summary>True when the host means "every interface" (<c>0.0.0.0</c>, <c>::</c> or <c>*</c>).</summary>
    public bool IsAnyAddress => Host is "0.0.0.0" or "::" or "*";

    /// <summary>True when the host is a loopback address or <c>localhost</c>.</summary>
    public bool IsLoopback =>
        string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The address a listener binds: an IP literal, <c>*</c>, or <c>localhost</c>; other names are not bindable.</summary>
    public bool IsBindable => IsAnyAddress || IsLoopback || IPAddress.TryParse(Host, out _);

    public override string ToString() =>
        Host.Contains(':') ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
