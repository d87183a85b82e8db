using EdgeStream.Records;

namespace EdgeStream.Files.Format;

/// <summary>
/// Encodes a batch of exactly one record into a caller's buffer, so a sender can reuse a fixed set of
/// buffers instead of allocating one per chunk (the record layout is <see cref="RecordEncoding"/>'s, the
/// header written and sealed by <see cref="RecordBatchHeader.WriteSealed"/>). No I/O.
/// </summary>
public static class SingleRecordBatch
{
    /// <summary>The batch's size in bytes.</summary>
    public static int SizeOf(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, IReadOnlyList<RecordHeader> headers)
    {
        var body = BodySize(key, value, headers);
        return RecordBatchHeader.Size + Varint.SizeOf(body) + body;
    }

    /// <summary>
    /// Where <see cref="Write"/> puts the value's first byte for a value of <paramref name="valueLength"/> bytes and
    /// headers of the same encoded size as <paramref name="headers"/>. A sender reads a chunk straight to this
    /// offset of its buffer and then writes the batch around it (the value is copied onto itself), so the
    /// chunk's bytes are never held twice.
    /// </summary>
    public static int ValueOffset(ReadOnlyMemory<byte> key, int valueLength, IReadOnlyList<RecordHeader> headers)
    {
        var value = new ReadOnlyMemory<byte>(null, 0, 0);
        var body = RecordEncoding.FieldsSize(0, 0, key, value, headers.Count) + valueLength;
        foreach (var h in headers) body += RecordEncoding.HeaderSize(h);
        // header, record length, attributes, timestamp delta 0, offset delta 0, key length and key, value length
        return RecordBatchHeader.Size + Varint.SizeOf(body) + 1 + 1 + 1 + Varint.SizeOf(key.Length) + key.Length + Varint.SizeOf(valueLength);
    }

    /// <summary>Writes the batch at the start of <paramref name="buffer"/> and returns its length.</summary>
    public static int Write(Span<byte> buffer, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, IReadOnlyList<RecordHeader> headers,
        long timestamp, long producerId, short producerEpoch, int sequence)
    {
        var body = BodySize(key, value, headers);
        var size = RecordBatchHeader.Size + Varint.SizeOf(body) + body;
        if (buffer.Length < size) throw new ArgumentException($"a buffer of {buffer.Length} bytes cannot hold a {size}-byte batch", nameof(buffer));
        var span = buffer[RecordBatchHeader.Size..size];
        var p = Varint.Write(span, body);
        p += RecordEncoding.WriteFields(span[p..], 0, 0, key, value, headers.Count);
        foreach (var h in headers) p += RecordEncoding.WriteHeader(span[p..], h);
        RecordBatchHeader.WriteSealed(buffer[..size], 0, 1, timestamp, timestamp, producerId, producerEpoch, sequence);
        return size;
    }

    // One record at offset and timestamp delta 0.
    private static int BodySize(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, IReadOnlyList<RecordHeader> headers)
    {
        var body = RecordEncoding.FieldsSize(0, 0, key, value, headers.Count);
        foreach (var h in headers) body += RecordEncoding.HeaderSize(h);
        return body;
    }
}
