using System.Buffers.Text;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Sink;

/// <summary>
/// Where a record was first written: (origin node, topic there, partition there). Its origin offset
/// orders the stream's records and names each one, so the external cluster's copy of a stream can be
/// compared with what a node is about to write.
/// </summary>
public readonly record struct OriginStream(string Node, string Topic, int Partition)
{
    public override string ToString() => $"{Node}/{Topic}/{Partition}";

    /// <summary>
    /// Reads the four <c>es.origin.*</c> headers the uplink receiver appends (the last occurrence of
    /// each, as a relaying sender does); false when any is missing or malformed.
    /// </summary>
    public static bool TryRead(IReadOnlyList<RecordHeader> headers, out OriginStream origin, out long offset)
    {
        string? node = null, topic = null;
        long partition = -1;
        offset = -1;
        for (var i = 0; i < headers.Count; i++)
        {
            var h = headers[i];
            if (h.Value is not { } value) continue;
            switch (h.Key)
            {
                case OriginHeaders.Node: node = Encoding.UTF8.GetString(value.Span); break;
                case OriginHeaders.Topic: topic = Encoding.UTF8.GetString(value.Span); break;
                case OriginHeaders.Partition: partition = ParseNumber(value.Span); break;
                case OriginHeaders.Offset: offset = ParseNumber(value.Span); break;
            }
        }
        origin = default;
        if (node is null || topic is null || partition is < 0 or > int.MaxValue || offset < 0) return false;
        origin = new OriginStream(node, topic, (int)partition);
        return true;
    }

    /// <summary><paramref name="headers"/> followed by the four origin headers naming this stream and <paramref name="offset"/>.</summary>
    public RecordHeader[] AppendTo(IReadOnlyList<RecordHeader> headers, long offset)
    {
        var all = new RecordHeader[headers.Count + 4];
        for (var i = 0; i < headers.Count; i++) all[i] = headers[i];
        all[^4] = new RecordHeader(OriginHeaders.Node, Encoding.UTF8.GetBytes(Node));
        all[^3] = new RecordHeader(OriginHeaders.Topic, Encoding.UTF8.GetBytes(Topic));
        all[^2] = new RecordHeader(OriginHeaders.Partition, Encoding.ASCII.GetBytes(Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        all[^1] = new RecordHeader(OriginHeaders.Offset, Encoding.ASCII.GetBytes(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return all;
    }

    private static long ParseNumber(ReadOnlySpan<byte> text) =>
        Utf8Parser.TryParse(text, out long n, out var consumed) && consumed == text.Length && n >= 0 ? n : -1;
}
