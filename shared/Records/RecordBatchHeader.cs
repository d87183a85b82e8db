using System.Buffers.Binary;

namespace EdgeStream.Records;

/// <summary>
/// The fixed 61-byte header of a record batch, magic v2 (Kafka protocol guide, "Record Batch"):
/// <code>
/// baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
/// attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
/// producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32
/// </code>
/// batchLength counts the bytes after itself; the CRC covers attributes to the end of the batch,
/// so the broker may rewrite baseOffset and partitionLeaderEpoch without recomputing it.
/// </summary>
public readonly struct RecordBatchHeader
{
    public const int Size = 61;
    /// <summary>baseOffset + batchLength: the prefix that says how long the batch is.</summary>
    public const int LogOverhead = 12;
    public const byte CurrentMagic = 2;

    public const int BaseOffsetPosition = 0;
    public const int BatchLengthPosition = 8;
    public const int PartitionLeaderEpochPosition = 12;
    public const int MagicPosition = 16;
    public const int CrcPosition = 17;
    public const int AttributesPosition = 21;
    public const int LastOffsetDeltaPosition = 23;
    public const int BaseTimestampPosition = 27;
    public const int MaxTimestampPosition = 35;
    public const int ProducerIdPosition = 43;
    public const int ProducerEpochPosition = 51;
    public const int BaseSequencePosition = 53;
    public const int RecordCountPosition = 57;

    public long BaseOffset { get; init; }
    public int BatchLength { get; init; }
    public int PartitionLeaderEpoch { get; init; }
    public byte Magic { get; init; }
    public uint Crc { get; init; }
    public short Attributes { get; init; }
    public int LastOffsetDelta { get; init; }
    public long BaseTimestamp { get; init; }
    public long MaxTimestamp { get; init; }
    public long ProducerId { get; init; }
    public short ProducerEpoch { get; init; }
    public int BaseSequence { get; init; }
    public int RecordCount { get; init; }

    /// <summary>Whole size of the batch on the wire and on disk.</summary>
    public int TotalSize => LogOverhead + BatchLength;
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public CompressionType Compression => (CompressionType)(Attributes & 0x07);
    public TimestampType TimestampType => (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool IsControl => (Attributes & 0x20) != 0;

    /// <summary>
    /// Writes the header of <paramref name="batch"/> (base offset 0, partition leader epoch -1, magic v2)
    /// in front of the records already at <c>batch[Size..]</c>, then the CRC-32C over attributes to the
    /// end. The one header writer: the builder and the uplink's batch writer both seal batches here.
    /// </summary>
    public static void WriteSealed(Span<byte> batch, short attributes, int recordCount, long baseTimestamp, long maxTimestamp,
        long producerId, short producerEpoch, int baseSequence)
    {
        BinaryPrimitives.WriteInt64BigEndian(batch, 0);
        BinaryPrimitives.WriteInt32BigEndian(batch[BatchLengthPosition..], batch.Length - LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochPosition..], -1);
        batch[MagicPosition] = CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesPosition..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(batch[LastOffsetDeltaPosition..], recordCount - 1);
        BinaryPrimitives.WriteInt64BigEndian(batch[BaseTimestampPosition..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampPosition..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(batch[ProducerIdPosition..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(batch[ProducerEpochPosition..], producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(batch[BaseSequencePosition..], baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(batch[RecordCountPosition..], recordCount);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcPosition..], Crc32C.Compute(batch[AttributesPosition..]));
    }

    /// <summary>Reads the header fields; checks nothing but that 61 bytes are there.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out RecordBatchHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }
        header = new RecordBatchHeader
        {
            BaseOffset = BinaryPrimitives.ReadInt64BigEndian(source),
            BatchLength = BinaryPrimitives.ReadInt32BigEndian(source[BatchLengthPosition..]),
            PartitionLeaderEpoch = BinaryPrimitives.ReadInt32BigEndian(source[PartitionLeaderEpochPosition..]),
            Magic = source[MagicPosition],
            Crc = BinaryPrimitives.ReadUInt32BigEndian(source[CrcPosition..]),
            Attributes = BinaryPrimitives.ReadInt16BigEndian(source[AttributesPosition..]),
            LastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(source[LastOffsetDeltaPosition..]),
            BaseTimestamp = BinaryPrimitives.ReadInt64BigEndian(source[BaseTimestampPosition..]),
            MaxTimestamp = BinaryPrimitives.ReadInt64BigEndian(source[MaxTimestampPosition..]),
            ProducerId = BinaryPrimitives.ReadInt64BigEndian(source[ProducerIdPosition..]),
            ProducerEpoch = BinaryPrimitives.ReadInt16BigEndian(source[ProducerEpochPosition..]),
            BaseSequence = BinaryPrimitives.ReadInt32BigEndian(source[BaseSequencePosition..]),
            RecordCount = BinaryPrimitives.ReadInt32BigEndian(source[RecordCountPosition..]),
        };
        return true;
    }

    /// <summary>
    /// Checks a whole batch: the header parses, magic is 2, the length matches the buffer,
    /// the counts are sane and the CRC-32C matches. Returns the reason when it does not.
    /// </summary>
    public static BatchValidation Validate(ReadOnlySpan<byte> batch, out RecordBatchHeader header)
    {
        if (!TryRead(batch, out header)) return BatchValidation.Truncated;
        if (header.Magic != CurrentMagic) return BatchValidation.UnsupportedMagic;
        if (header.BatchLength < Size - LogOverhead) return BatchValidation.BadLength;
        if (header.TotalSize != batch.Length) return header.TotalSize > batch.Length ? BatchValidation.Truncated : BatchValidation.BadLength;
        if (header.LastOffsetDelta < 0 || header.RecordCount < 0) return BatchValidation.BadLength;
        if (Crc32C.Compute(batch[AttributesPosition..]) != header.Crc) return BatchValidation.CrcMismatch;
        return BatchValidation.Valid;
    }

    /// <summary>Reads the total batch size from its first 12 bytes, or -1 when fewer are there.</summary>
    public static int PeekTotalSize(ReadOnlySpan<byte> source) =>
        source.Length < LogOverhead ? -1 : LogOverhead + BinaryPrimitives.ReadInt32BigEndian(source[BatchLengthPosition..]);

    /// <summary>Assigns the batch its offset in the log. Outside the CRC, so no checksum changes.</summary>
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);

    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochPosition..], epoch);

    /// <summary>
    /// Stamps LogAppendTime: sets the timestamp-type bit and maxTimestamp, then recomputes the CRC
    /// (both fields sit inside it). Used when a topic asks for broker time.
    /// </summary>
    public static void StampLogAppendTime(Span<byte> batch, long timestampMs)
    {
        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch[AttributesPosition..]);
        BinaryPrimitives.WriteInt16BigEndian(batch[AttributesPosition..], (short)(attributes | 0x08));
        BinaryPrimitives.WriteInt64BigEndian(batch[MaxTimestampPosition..], timestampMs);
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcPosition..], Crc32C.Compute(batch[AttributesPosition..]));
    }
}

public enum BatchValidation
{
    Valid,
    Truncated,
    BadLength,
    UnsupportedMagic,
    CrcMismatch,
}

/// <summary>The compression codec in attribute bits 0-2.</summary>
public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}
