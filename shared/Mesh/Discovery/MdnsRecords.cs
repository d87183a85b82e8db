using Makaretu.Dns;

namespace EdgeStream.Mesh.Discovery;

/// <summary>Comparisons of resource records as mDNS defines them: the top class bit and the TTL never count.</summary>
public static class MdnsRecords
{
    /// <summary>Same name (case-insensitive), type and class.</summary>
    public static bool SameRrset(ResourceRecord a, ResourceRecord b) =>
        a.Type == b.Type && MdnsNames.BaseClass(a.Class) == MdnsNames.BaseClass(b.Class) && a.Name == b.Name;

    /// <summary>Same name, type, class and RDATA: the same record, whatever the TTL and cache-flush bit.</summary>
    public static bool SameRecord(ResourceRecord a, ResourceRecord b) =>
        SameRrset(a, b) && a.GetData().AsSpan().SequenceEqual(b.GetData());

    /// <summary>A key for a record in dictionaries: lower-case name, type and RDATA bytes.</summary>
    public static string Key(ResourceRecord record) =>
        $"{record.Name.ToCanonical()}|{(ushort)record.Type}|{Convert.ToHexString(record.GetData())}";

    /// <summary>Whether <paramref name="known"/>, listed by a querier or sent by another responder, covers <paramref name="ours"/>: the same record with at least half our TTL left (RFC 6762 §7.1, §7.4).</summary>
    public static bool Covers(ResourceRecord known, ResourceRecord ours) =>
        known.TTL.Ticks * 2 >= ours.TTL.Ticks && SameRecord(known, ours);

    /// <summary>
    /// RFC 6762 §8.2 simultaneous-probe tiebreak: both sets sorted by class, type, then RDATA bytes, compared
    /// pairwise; the first difference decides, and a set that runs out first is the lesser. Negative when
    /// <paramref name="ours"/> loses.
    /// </summary>
    public static int CompareForTiebreak(IEnumerable<ResourceRecord> ours, IEnumerable<ResourceRecord> theirs)
    {
        var a = Sorted(ours);
        var b = Sorted(theirs);
        for (var i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            var c = Compare(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Count.CompareTo(b.Count);
    }

    private static List<(ushort Class, ushort Type, byte[] Data)> Sorted(IEnumerable<ResourceRecord> records)
    {
        var list = new List<(ushort Class, ushort Type, byte[] Data)>();
        foreach (var r in records) list.Add(((ushort)MdnsNames.BaseClass(r.Class), (ushort)r.Type, r.GetData()));
        list.Sort(Compare);
        return list;
    }

    private static int Compare((ushort Class, ushort Type, byte[] Data) x, (ushort Class, ushort Type, byte[] Data) y)
    {
        var c = x.Class.CompareTo(y.Class);
        if (c != 0) return c;
        c = x.Type.CompareTo(y.Type);
        return c != 0 ? c : x.Data.AsSpan().SequenceCompareTo(y.Data);
    }
}
