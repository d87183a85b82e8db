using EdgeStream.Records;

namespace EdgeStream.Files.Format;

/// <summary>
/// Lays out one record batch of file records in a caller's buffer, record after record, so a sender reuses a
/// fixed set of buffers instead of allocating per chunk, and many small files share one batch (one produce
/// request, one batch to store, forward and fetch at every tier, instead of two per file). The record layout is
/// <see cref="RecordEncoding"/>'s; the header is written and sealed by <see cref="RecordBatchHeader.WriteSealed"/>.
/// A chunk is read straight to <see cref="ValueOffset"/> and the record is then written around it (the value is
/// copied onto itself), so its bytes are never held twice. No I/O.
/// </summary>
public sealed class FileRecordBatch(byte[] buffer)
{
    private int _end = RecordBatchHeader.Size;

    public byte[] Buffer { get; } = buffer;

    /// <summary>Records appended since <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    public void Clear()
    {
        _end = RecordBatchHeader.Size;
        Count = 0;
    }

    /// <summary>
    /// Where <see cref="Append"/> will put the value's first byte of a next record with a value of
    /// <paramref name="valueLength"/> bytes and headers of the same encoded size as <paramref name="headers"/>;
    /// -1 when that record does not fit in the buffer any more.
    /// </summary>
    public int ValueOffset(ReadOnlyMemory<byte> key, int valueLength, IReadOnlyList<RecordHeader> headers)
    {
        var body = BodySize(Count, key, valueLength, headers);
        if (_end + Varint.SizeOf(body) + body > Buffer.Length) return -1;
        // record length, attributes, timestamp delta 0, offset delta, key length and key, value length
        return _end + Varint.SizeOf(body) + 1 + 1 + Varint.SizeOf(Count) + Varint.SizeOf(key.Length) + key.Length + Varint.SizeOf(valueLength);
    }

    /// <summary>Appends a record (at offset delta <see cref="Count"/>, timestamp delta 0); the caller checked it fits with <see cref="ValueOffset"/>.</summary>
    public void Append(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, IReadOnlyList<RecordHeader> headers)
    {
        var body = BodySize(Count, key, value.Length, headers);
        var span = Buffer.AsSpan(_end);
        if (Varint.SizeOf(body) + body > span.Length) throw new ArgumentException($"a {body}-byte record does not fit in the {span.Length} bytes left of the batch buffer");
        var p = Varint.Write(span, body);
        p += RecordEncoding.WriteFields(span[p..], 0, Count, key, value, headers.Count);
        foreach (var h in headers) p += RecordEncoding.WriteHeader(span[p..], h);
        _end += p;
        Count++;
    }

    /// <summary>Writes the batch header in front of the records and returns the whole batch.</summary>
    public ReadOnlyMemory<byte> Seal(long timestamp, long producerId, short producerEpoch, int baseSequence)
    {
        if (Count == 0) throw new InvalidOperationException("an empty batch");
        RecordBatchHeader.WriteSealed(Buffer.AsSpan(0, _end), 0, Count, timestamp, timestamp, producerId, producerEpoch, baseSequence);
        return Buffer.AsMemory(0, _end);
    }

    private static int BodySize(int offsetDelta, ReadOnlyMemory<byte> key, int valueLength, IReadOnlyList<RecordHeader> headers)
    {
        // The fields of an empty value, then the value's real length prefix and bytes in its place.
        var body = RecordEncoding.FieldsSize(0, offsetDelta, key, ReadOnlyMemory<byte>.Empty, headers.Count)
            - Varint.SizeOf(0) + Varint.SizeOf(valueLength) + valueLength;
        foreach (var h in headers) body += RecordEncoding.HeaderSize(h);
        return body;
    }
}
