using System.Text;

namespace EdgeStream.Records;

/// <summary>
/// The pieces of one record's encoding (protocol guide, "Record"), for writers that lay records
/// out themselves (<see cref="RecordBatchBuilder"/>, the uplink receiver's batch writer):
/// <code>
/// length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
/// keyLength varint | key | valueLength varint | value | headerCount varint | headers
/// header = keyLength varint | key | valueLength varint | value
/// </code>
/// A null key, value or header value is written as length -1 with no bytes. No allocation.
/// </summary>
public static class RecordEncoding
{
    /// <summary>Bytes from attributes to headerCount inclusive (the record body without its headers).</summary>
    public static int FieldsSize(long timestampDelta, int offsetDelta, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, int headerCount)
    {
        var keyLength = key?.Length ?? -1;
        var valueLength = value?.Length ?? -1;
        return 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(offsetDelta)
            + Varint.SizeOf(keyLength) + Math.Max(keyLength, 0)
            + Varint.SizeOf(valueLength) + Math.Max(valueLength, 0)
            + Varint.SizeOf(headerCount);
    }

    /// <summary>Writes attributes to headerCount inclusive; returns the bytes written (<see cref="FieldsSize"/>).</summary>
    public static int WriteFields(Span<byte> span, long timestampDelta, int offsetDelta, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, int headerCount)
    {
        span[0] = 0; // record attributes: unused
        var p = 1;
        p += Varint.Write(span[p..], timestampDelta);
        p += Varint.Write(span[p..], offsetDelta);
        p += Varint.Write(span[p..], key?.Length ?? -1);
        if (key is { } k) { k.Span.CopyTo(span[p..]); p += k.Length; }
        p += Varint.Write(span[p..], value?.Length ?? -1);
        if (value is { } v) { v.Span.CopyTo(span[p..]); p += v.Length; }
        p += Varint.Write(span[p..], headerCount);
        return p;
    }

    /// <summary>Encoded size of one record header.</summary>
    public static int HeaderSize(in RecordHeader header)
    {
        var keyBytes = Encoding.UTF8.GetByteCount(header.Key);
        var valueLength = header.Value?.Length ?? -1;
        return Varint.SizeOf(keyBytes) + keyBytes + Varint.SizeOf(valueLength) + Math.Max(valueLength, 0);
    }

    /// <summary>Writes one record header; returns the bytes written (<see cref="HeaderSize"/>).</summary>
    public static int WriteHeader(Span<byte> span, in RecordHeader header)
    {
        var p = Varint.Write(span, Encoding.UTF8.GetByteCount(header.Key));
        p += Encoding.UTF8.GetBytes(header.Key, span[p..]);
        p += Varint.Write(span[p..], header.Value?.Length ?? -1);
        if (header.Value is { } v) { v.Span.CopyTo(span[p..]); p += v.Length; }
        return p;
    }
}
