using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Kafka.Protocol.Records;

/// <summary>
/// Encodes records into one magic v2 record batch. Record layout (protocol guide, "Record"):
/// <code>
/// length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
/// keyLength varint | key | valueLength varint | value | headerCount varint | headers
/// </code>
/// </summary>
public sealed class RecordBatchBuilder
{
    private readonly ArrayBufferWriter<byte> _records = new();
    private long _baseTimestamp = -1;
    private long _maxTimestamp = -1;
    private int _count;

    public long ProducerId { get; set; } = -1;
    public short ProducerEpoch { get; set; } = -1;
    public int BaseSequence { get; set; } = -1;
    public bool IsTransactional { get; set; }
    public int Count => _count;
    /// <summary>Bytes the records take so far, before compression and the 61-byte header.</summary>
    public int RecordsSize => _records.WrittenCount;

    public RecordBatchBuilder Add(in ProducerRecord record)
    {
        if (_count == 0) _baseTimestamp = record.Timestamp;
        if (record.Timestamp > _maxTimestamp) _maxTimestamp = record.Timestamp;

        var timestampDelta = record.Timestamp - _baseTimestamp;
        var offsetDelta = _count;
        var keyLength = record.Key?.Length ?? -1;
        var valueLength = record.Value?.Length ?? -1;
        var headers = record.Headers ?? [];

        var bodySize = 1 + Varint.SizeOf(timestampDelta) + Varint.SizeOf(offsetDelta)
            + Varint.SizeOf(keyLength) + Math.Max(keyLength, 0)
            + Varint.SizeOf(valueLength) + Math.Max(valueLength, 0)
            + Varint.SizeOf(headers.Count);
        foreach (var h in headers)
        {
            var keyBytes = Encoding.UTF8.GetByteCount(h.Key);
            var vLen = h.Value?.Length ?? -1;
            bodySize += Varint.SizeOf(keyBytes) + keyBytes + Varint.SizeOf(vLen) + Math.Max(vLen, 0);
        }

        var span = _records.GetSpan(Varint.MaxLength32 + bodySize);
        var p = Varint.Write(span, bodySize);
        span[p++] = 0; // record attributes: unused
        p += Varint.Write(span[p..], timestampDelta);
        p += Varint.Write(span[p..], offsetDelta);
        p += Varint.Write(span[p..], keyLength);
        if (record.Key is { } key) { key.Span.CopyTo(span[p..]); p += key.Length; }
        p += Varint.Write(span[p..], valueLength);
        if (record.Value is { } value) { value.Span.CopyTo(span[p..]); p += value.Length; }
        p += Varint.Write(span[p..], headers.Count);
        foreach (var h in headers)
        {
            var keyBytes = Encoding.UTF8.GetByteCount(h.Key);
            p += Varint.Write(span[p..], keyBytes);
            p += Encoding.UTF8.GetBytes(h.Key, span[p..]);
            var vLen = h.Value?.Length ?? -1;
            p += Varint.Write(span[p..], vLen);
            if (h.Value is { } hv) { hv.Span.CopyTo(span[p..]); p += hv.Length; }
        }
        _records.Advance(p);
        _count++;
        return this;
    }

    public RecordBatchBuilder Add(ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, long timestamp, IReadOnlyList<RecordHeader>? headers = null) =>
        Add(new ProducerRecord(key, value, timestamp, headers));

    /// <summary>Writes the finished batch (base offset 0, uncompressed unless a codec is given) and returns it.</summary>
    public byte[] Build(CompressionType compression = CompressionType.None)
    {
        if (_count == 0) throw new InvalidOperationException("A record batch needs at least one record.");
        ReadOnlySpan<byte> records = _records.WrittenSpan;
        byte[]? compressed = null;
        if (compression != CompressionType.None)
        {
            compressed = RecordCompression.Compress(compression, records);
            records = compressed;
        }
        var batch = new byte[RecordBatchHeader.Size + records.Length];
        var s = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s, 0);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.BatchLengthPosition..], batch.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.PartitionLeaderEpochPosition..], -1);
        s[RecordBatchHeader.MagicPosition] = RecordBatchHeader.CurrentMagic;
        short attributes = (short)((byte)compression | (IsTransactional ? 0x10 : 0));
        BinaryPrimitives.WriteInt16BigEndian(s[RecordBatchHeader.AttributesPosition..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.LastOffsetDeltaPosition..], _count - 1);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.BaseTimestampPosition..], _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.MaxTimestampPosition..], _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(s[RecordBatchHeader.ProducerIdPosition..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(s[RecordBatchHeader.ProducerEpochPosition..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.BaseSequencePosition..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(s[RecordBatchHeader.RecordCountPosition..], _count);
        records.CopyTo(s[RecordBatchHeader.Size..]);
        BinaryPrimitives.WriteUInt32BigEndian(s[RecordBatchHeader.CrcPosition..], Crc32C.Compute(s[RecordBatchHeader.AttributesPosition..]));
        return batch;
    }

    public void Reset()
    {
        _records.ResetWrittenCount();
        _count = 0;
        _baseTimestamp = _maxTimestamp = -1;
    }
}
