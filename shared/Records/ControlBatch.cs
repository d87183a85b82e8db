using System.Buffers.Binary;

namespace EdgeStream.Records;

/// <summary>What a transaction marker says about the producer's open transaction.</summary>
public enum ControlRecordType : short
{
    Abort = 0,
    Commit = 1,
}

/// <summary>
/// Transaction markers: a record batch with attributes transactional (bit 4) and control (bit 5),
/// the producer's id and epoch, base sequence -1 and one record whose key is
/// <c>version int16 = 0, type int16 (0 abort, 1 commit)</c> and whose value is
/// <c>version int16 = 0, coordinator epoch int32</c> (Kafka's EndTransactionMarker). Markers are
/// never compressed, so the type can be read straight after the header.
/// </summary>
public static class ControlBatch
{
    /// <summary>Batch attributes of a marker: transactional | control, no compression.</summary>
    public const short Attributes = 0x10 | 0x20;

    /// <summary>A sealed marker batch (base offset 0: the log assigns it).</summary>
    public static byte[] Build(long producerId, short producerEpoch, ControlRecordType type, int coordinatorEpoch, long timestampMs)
    {
        Span<byte> key = stackalloc byte[4];
        BinaryPrimitives.WriteInt16BigEndian(key, 0);
        BinaryPrimitives.WriteInt16BigEndian(key[2..], (short)type);
        Span<byte> value = stackalloc byte[6];
        BinaryPrimitives.WriteInt16BigEndian(value, 0);
        BinaryPrimitives.WriteInt32BigEndian(value[2..], coordinatorEpoch);
        ReadOnlyMemory<byte> keyMemory = key.ToArray(), valueMemory = value.ToArray();
        var bodySize = RecordEncoding.FieldsSize(0, 0, keyMemory, valueMemory, 0);
        var batch = new byte[RecordBatchHeader.Size + Varint.SizeOf(bodySize) + bodySize];
        var p = RecordBatchHeader.Size;
        p += Varint.Write(batch.AsSpan(p), bodySize);
        RecordEncoding.WriteFields(batch.AsSpan(p), 0, 0, keyMemory, valueMemory, 0);
        RecordBatchHeader.WriteSealed(batch, Attributes, 1, timestampMs, timestampMs, producerId, producerEpoch, -1);
        return batch;
    }

    /// <summary>
    /// Reads the marker type of a control batch (<paramref name="batch"/> starts at its header and
    /// holds at least its first record). False when the record is not a version-0 control key.
    /// </summary>
    public static bool TryReadType(ReadOnlySpan<byte> batch, out ControlRecordType type)
    {
        type = default;
        if (batch.Length <= RecordBatchHeader.Size) return false;
        // record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint, key
        var p = RecordBatchHeader.Size;
        if (!Varint.TryRead(batch[p..], out int _, out var n)) return false;
        p += n + 1;
        if (p > batch.Length || !Varint.TryRead(batch[p..], out long _, out n)) return false;
        p += n;
        if (!Varint.TryRead(batch[p..], out int _, out n)) return false;
        p += n;
        if (!Varint.TryRead(batch[p..], out int keyLength, out n) || keyLength < 4) return false;
        p += n;
        if (p + 4 > batch.Length || BinaryPrimitives.ReadInt16BigEndian(batch[p..]) != 0) return false;
        var raw = BinaryPrimitives.ReadInt16BigEndian(batch[(p + 2)..]);
        if (raw is not (0 or 1)) return false;
        type = (ControlRecordType)raw;
        return true;
    }
}
