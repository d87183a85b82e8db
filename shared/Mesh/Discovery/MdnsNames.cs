using System.Text;
using Makaretu.Dns;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Names, labels and the mDNS meaning of the top class bit.</summary>
public static class MdnsNames
{
    /// <summary>The mDNS port and groups (RFC 6762 §3).</summary>
    public const int Port = 5353;

    /// <summary>Top bit of a record's class: cache-flush (RFC 6762 §10.2); of a question's class: unicast response wanted (QU, §5.4).</summary>
    public const ushort TopClassBit = 0x8000;

    /// <summary>RFC 6763 §9: the name whose PTR records enumerate the service types on the link.</summary>
    public static readonly DomainName ServicesEnumeration = new(["_services", "_dns-sd", "_udp", "local"]);

    internal const int MaxLabelBytes = 63;

    /// <summary>1..<paramref name="max"/> of <c>A-Z a-z 0-9 . _ -</c>, the alphabet of node ids and cluster names.</summary>
    public static bool IsToken(string? value, int max)
    {
        if (string.IsNullOrEmpty(value) || value.Length > max) return false;
        foreach (var c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        return true;
    }

    /// <summary>A host label: 1–63 of <c>A-Z a-z 0-9 -</c>, no <c>-</c> at either end (RFC 1123 §2.1).</summary>
    public static bool IsHostLabel(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLabelBytes || value[0] == '-' || value[^1] == '-') return false;
        foreach (var c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
        return true;
    }

    /// <summary>An instance label: 1–63 UTF-8 bytes, no control characters (RFC 6763 §4.1.1).</summary>
    public static bool IsInstanceLabel(string? value)
    {
        if (string.IsNullOrEmpty(value) || Encoding.UTF8.GetByteCount(value) > MaxLabelBytes) return false;
        foreach (var c in value)
            if (char.IsControl(c)) return false;
        return true;
    }

    /// <summary><c>_name._tcp.local</c> or <c>_name._udp.local</c> (RFC 6763 §7).</summary>
    public static bool IsServiceType(string? value)
    {
        if (string.IsNullOrEmpty(value)) return false;
        var labels = value.TrimEnd('.').Split('.');
        return labels.Length == 3
            && labels[0].Length is > 1 and <= 16 && labels[0][0] == '_' && IsHostLabel(labels[0][1..])
            && labels[1] is "_tcp" or "_udp"
            && string.Equals(labels[2], "local", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A host label made from a node id: what is not a letter, digit or <c>-</c> becomes <c>-</c>.</summary>
    public static string HostLabelFrom(string nodeId)
    {
        var chars = new char[Math.Min(nodeId.Length, MaxLabelBytes)];
        for (var i = 0; i < chars.Length; i++)
            chars[i] = char.IsAsciiLetterOrDigit(nodeId[i]) ? nodeId[i] : '-';
        var label = new string(chars).Trim('-');
        return label.Length == 0 ? "edgestream" : label;
    }

    /// <summary>The service type as a name (<c>_edgestream._tcp.local</c>).</summary>
    public static DomainName ServiceName(string serviceType) => new(serviceType.TrimEnd('.').Split('.'));

    /// <summary>
    /// <c>instance.service</c>, the instance kept as one label: it may hold dots and spaces, which the
    /// string constructor of <see cref="DomainName"/> would split or need escaped.
    /// </summary>
    public static DomainName InstanceName(string instance, DomainName service)
    {
        var labels = new string[service.Labels.Count + 1];
        labels[0] = instance;
        for (var i = 0; i < service.Labels.Count; i++) labels[i + 1] = service.Labels[i];
        return new DomainName(labels);
    }

    /// <summary><c>host.local</c>.</summary>
    public static DomainName HostName(string hostLabel) => new([hostLabel, "local"]);

    /// <summary>The instance label when <paramref name="name"/> is a direct child of <paramref name="service"/>; otherwise null.</summary>
    public static string? InstanceOf(DomainName name, DomainName service)
    {
        var n = name.Labels.Count;
        var s = service.Labels.Count;
        if (n != s + 1) return null;
        for (var i = 0; i < s; i++)
            if (!DomainName.LabelsEqual(name.Labels[i + 1], service.Labels[i])) return null;
        return name.Labels[0];
    }

    /// <summary>
    /// The <paramref name="attempt"/>-th name after a conflict: <c>name (2)</c>, <c>name (3)</c>… (the form
    /// RFC 6763 §D suggests for instances), the base cut so the result still fits one label.
    /// </summary>
    public static string RenameInstance(string original, int attempt)
    {
        var suffix = $" ({attempt})";
        return TrimToBytes(original, MaxLabelBytes - suffix.Length) + suffix;
    }

    /// <summary>The <paramref name="attempt"/>-th host label after a conflict: <c>host-2</c>, <c>host-3</c>…</summary>
    public static string RenameHost(string original, int attempt)
    {
        var suffix = $"-{attempt}";
        return TrimToBytes(original, MaxLabelBytes - suffix.Length).TrimEnd('-') + suffix;
    }

    private static string TrimToBytes(string value, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(value) <= maxBytes) return value;
        var end = value.Length;
        // Cut whole characters (never half a surrogate pair) until the UTF-8 form fits.
        while (end > 0 && Encoding.UTF8.GetByteCount(value.AsSpan(0, end)) > maxBytes)
            end -= end >= 2 && char.IsLowSurrogate(value[end - 1]) ? 2 : 1;
        return value[..end];
    }

    /// <summary>The class without the top bit.</summary>
    public static DnsClass BaseClass(DnsClass value) => (DnsClass)((ushort)value & 0x7FFF);

    /// <summary>Whether the top class bit is set (cache-flush on a record, QU on a question).</summary>
    public static bool HasTopBit(DnsClass value) => ((ushort)value & TopClassBit) != 0;

    /// <summary>IN with or without the top bit.</summary>
    public static DnsClass In(bool topBit) => topBit ? (DnsClass)((ushort)DnsClass.IN | TopClassBit) : DnsClass.IN;
}
