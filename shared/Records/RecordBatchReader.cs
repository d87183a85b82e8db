using System.Text;

namespace EdgeStream.Records;

/// <summary>Decodes the records of one batch (decompressing when the batch says so).</summary>
public static class RecordBatchReader
{
    /// <summary>Caps a decompressed batch so a hostile "zip bomb" cannot exhaust memory.</summary>
    public const int DefaultMaxDecompressedBytes = 256 * 1024 * 1024;

    public static List<Record> ReadRecords(ReadOnlyMemory<byte> batch, int maxDecompressedBytes = DefaultMaxDecompressedBytes)
    {
        if (!RecordBatchHeader.TryRead(batch.Span, out var header))
            throw new CorruptRecordException("record batch shorter than its 61-byte header");
        if (header.TotalSize > batch.Length)
            throw new CorruptRecordException($"record batch claims {header.TotalSize} bytes, {batch.Length} present");
        if (header.TotalSize < RecordBatchHeader.Size)
            throw new CorruptRecordException($"record batch length {header.BatchLength} is shorter than its header");
        if (header.RecordCount < 0)
            throw new CorruptRecordException($"negative record count {header.RecordCount}");

        ReadOnlyMemory<byte> records = batch[RecordBatchHeader.Size..header.TotalSize];
        if (header.Compression != CompressionType.None)
            records = RecordCompression.Decompress(header.Compression, records.Span, maxDecompressedBytes);

        // Each record takes at least 7 bytes, which bounds a count read off the wire before we allocate for it.
        var capacity = Math.Min(header.RecordCount, records.Length / 7 + 1);
        var result = new List<Record>(capacity);
        var span = records.Span;
        var p = 0;
        for (var i = 0; i < header.RecordCount; i++)
        {
            if (!Varint.TryRead(span[p..], out int length, out var n) || length < 1 || length > span.Length - p - n)
                throw new CorruptRecordException($"record {i}: bad length");
            p += n;
            var end = p + length;
            var body = span[p..end];
            var q = 1; // attributes
            if (!Varint.TryRead(body[q..], out long timestampDelta, out n)) throw Bad(i, "timestamp");
            q += n;
            if (!Varint.TryRead(body[q..], out int offsetDelta, out n)) throw Bad(i, "offset delta");
            q += n;
            var key = ReadBytes(records, body, p, ref q, i, "key");
            var value = ReadBytes(records, body, p, ref q, i, "value");
            if (!Varint.TryRead(body[q..], out int headerCount, out n) || headerCount < 0 || headerCount > body.Length) throw Bad(i, "header count");
            q += n;
            var headers = headerCount == 0 ? (IReadOnlyList<RecordHeader>)[] : new RecordHeader[headerCount];
            for (var h = 0; h < headerCount; h++)
            {
                var hk = ReadBytes(records, body, p, ref q, i, "header key") ?? throw Bad(i, "null header key");
                var hv = ReadBytes(records, body, p, ref q, i, "header value");
                ((RecordHeader[])headers)[h] = new RecordHeader(Encoding.UTF8.GetString(hk.Span), hv);
            }
            result.Add(new Record
            {
                Offset = header.BaseOffset + offsetDelta,
                Timestamp = header.TimestampType == TimestampType.LogAppendTime ? header.MaxTimestamp : header.BaseTimestamp + timestampDelta,
                Key = key,
                Value = value,
                Headers = headers,
            });
            p = end;
        }
        return result;
    }

    private static ReadOnlyMemory<byte>? ReadBytes(ReadOnlyMemory<byte> records, ReadOnlySpan<byte> body, int bodyStart, ref int q, int index, string what)
    {
        if (!Varint.TryRead(body[q..], out int len, out var n)) throw Bad(index, what);
        q += n;
        if (len < 0) return null;
        if (q + len > body.Length) throw Bad(index, what);
        var slice = records.Slice(bodyStart + q, len);
        q += len;
        return slice;
    }

    private static CorruptRecordException Bad(int index, string what) => new($"record {index}: bad {what}");
}
