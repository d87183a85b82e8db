using System.Buffers;

namespace EdgeStream.Records;

/// <summary>
/// Encodes records into one magic v2 record batch (record layout: <see cref="RecordEncoding"/>).
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
        var headers = record.Headers ?? [];
        var bodySize = RecordEncoding.FieldsSize(timestampDelta, _count, record.Key, record.Value, headers.Count);
        // Indexed, not foreach: enumerating an IReadOnlyList allocates an enumerator, twice per record.
        for (var i = 0; i < headers.Count; i++) bodySize += RecordEncoding.HeaderSize(headers[i]);

        var span = _records.GetSpan(Varint.MaxLength32 + bodySize);
        var p = Varint.Write(span, bodySize);
        p += RecordEncoding.WriteFields(span[p..], timestampDelta, _count, record.Key, record.Value, headers.Count);
        for (var i = 0; i < headers.Count; i++) p += RecordEncoding.WriteHeader(span[p..], headers[i]);
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
        records.CopyTo(batch.AsSpan(RecordBatchHeader.Size));
        short attributes = (short)((byte)compression | (IsTransactional ? 0x10 : 0));
        RecordBatchHeader.WriteSealed(batch, attributes, _count, _baseTimestamp, _maxTimestamp, ProducerId, ProducerEpoch, BaseSequence);
        return batch;
    }

    public void Reset()
    {
        _records.ResetWrittenCount();
        _count = 0;
        _baseTimestamp = _maxTimestamp = -1;
    }
}
