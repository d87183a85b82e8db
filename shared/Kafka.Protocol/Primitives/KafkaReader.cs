using EdgeStream.Records;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace EdgeStream.Kafka.Protocol.Primitives;

/// <summary>
/// Reads Kafka protocol primitives ("Protocol Primitive Types" in the protocol guide) from a
/// <see cref="ReadOnlySequence{T}"/>. Every length read off the wire is checked against the bytes that
/// remain (and a hard cap) before anything is allocated; violations throw <see cref="KafkaProtocolException"/>.
/// </summary>
public ref struct KafkaReader
{
    /// <summary>STRING / COMPACT_STRING lengths are capped at INT16 max by the protocol.</summary>
    public const int MaxStringLength = short.MaxValue;

    private SequenceReader<byte> _reader;

    public KafkaReader(ReadOnlySequence<byte> buffer) => _reader = new SequenceReader<byte>(buffer);

    public KafkaReader(ReadOnlyMemory<byte> buffer) => _reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer));

    public readonly long Remaining => _reader.Remaining;
    public readonly long Consumed => _reader.Consumed;
    public readonly bool End => _reader.End;
    public readonly ReadOnlySequence<byte> UnreadSequence => _reader.UnreadSequence;

    public sbyte ReadInt8()
    {
        if (!_reader.TryRead(out var b)) KafkaThrow.Truncated("INT8");
        return (sbyte)b;
    }

    public bool ReadBool() => ReadInt8() != 0;

    public short ReadInt16()
    {
        if (!_reader.TryReadBigEndian(out short v)) KafkaThrow.Truncated("INT16");
        return v;
    }

    public ushort ReadUInt16() => (ushort)ReadInt16();

    public int ReadInt32()
    {
        if (!_reader.TryReadBigEndian(out int v)) KafkaThrow.Truncated("INT32");
        return v;
    }

    public uint ReadUInt32() => (uint)ReadInt32();

    public long ReadInt64()
    {
        if (!_reader.TryReadBigEndian(out long v)) KafkaThrow.Truncated("INT64");
        return v;
    }

    public double ReadFloat64() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>UUID: 16 bytes, most significant first (RFC 4122 byte order).</summary>
    public Guid ReadUuid()
    {
        Span<byte> tmp = stackalloc byte[16];
        if (!_reader.TryCopyTo(tmp)) KafkaThrow.Truncated("UUID");
        _reader.Advance(16);
        return new Guid(tmp, bigEndian: true);
    }

    /// <summary>UNSIGNED_VARINT of at most 5 bytes.</summary>
    public uint ReadUnsignedVarint()
    {
        uint value = 0;
        for (var i = 0; i < Varint.MaxLength32; i++)
        {
            if (!_reader.TryRead(out var b)) KafkaThrow.Truncated("UNSIGNED_VARINT");
            if (i == Varint.MaxLength32 - 1 && b > 0x0F) KafkaThrow.Invalid("UNSIGNED_VARINT longer than 32 bits");
            value |= (uint)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) return value;
        }
        KafkaThrow.Invalid("UNSIGNED_VARINT longer than 5 bytes");
        return 0;
    }

    /// <summary>VARINT (zig-zag).</summary>
    public int ReadVarint() => Varint.UnZigZag(ReadUnsignedVarint());

    /// <summary>
    /// Reads a length prefix: INT16/INT32 (-1 = null) in classic versions, UNSIGNED_VARINT N+1
    /// (0 = null) in flexible ones. Returns -1 for null. Checks the length against <paramref name="limit"/>
    /// and the remaining bytes.
    /// </summary>
    private int ReadLength(bool flexible, bool int16Prefix, long limit, string what)
    {
        long length;
        if (flexible)
            length = (long)ReadUnsignedVarint() - 1;
        else
            length = int16Prefix ? ReadInt16() : ReadInt32();
        if (length < -1) KafkaThrow.BadLength(what, length, limit);
        if (length > limit || length > _reader.Remaining) KafkaThrow.BadLength(what, length, Math.Min(limit, _reader.Remaining));
        return (int)length;
    }

    public string ReadString(bool flexible) =>
        ReadNullableString(flexible) ?? throw new KafkaProtocolException("non-nullable STRING was null");

    public string? ReadNullableString(bool flexible)
    {
        var length = ReadLength(flexible, int16Prefix: true, MaxStringLength, "STRING");
        if (length < 0) return null;
        if (length == 0) return string.Empty;
        string result;
        var span = _reader.UnreadSpan;
        if (span.Length >= length)
            result = Encoding.UTF8.GetString(span[..length]);
        else
            result = Encoding.UTF8.GetString(_reader.UnreadSequence.Slice(0, length));
        _reader.Advance(length);
        return result;
    }

    public byte[] ReadBytes(bool flexible) =>
        ReadNullableBytes(flexible) ?? throw new KafkaProtocolException("non-nullable BYTES was null");

    public byte[]? ReadNullableBytes(bool flexible)
    {
        var length = ReadLength(flexible, int16Prefix: false, int.MaxValue, "BYTES");
        if (length < 0) return null;
        if (length == 0) return [];
        var result = new byte[length];
        _reader.TryCopyTo(result);
        _reader.Advance(length);
        return result;
    }

    /// <summary>RECORDS: nullable bytes holding record batches; copied out of the input buffer.</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool flexible)
    {
        var bytes = ReadNullableBytes(flexible);
        return bytes is null ? null : bytes;
    }

    /// <summary>
    /// ARRAY / COMPACT_ARRAY element count, -1 for null. Every element takes at least one byte, so a
    /// count larger than the remaining bytes is rejected before the caller allocates for it.
    /// </summary>
    public int ReadArrayLength(bool flexible) => ReadLength(flexible, int16Prefix: false, int.MaxValue, "ARRAY");

    /// <summary>Number of entries in a tagged-field section, checked against the remaining bytes.</summary>
    public int ReadTaggedFieldCount()
    {
        var count = ReadUnsignedVarint();
        if (count > _reader.Remaining) KafkaThrow.BadLength("TAGGED_FIELDS", count, _reader.Remaining);
        return (int)count;
    }

    /// <summary>Size of one tagged field's value, checked against the remaining bytes.</summary>
    public int ReadTaggedFieldSize()
    {
        var size = ReadUnsignedVarint();
        if (size > _reader.Remaining) KafkaThrow.BadLength("tagged field", size, _reader.Remaining);
        return (int)size;
    }

    /// <summary>Skips a whole tagged-field section (used where no tags are known, such as headers).</summary>
    public void SkipTaggedFields()
    {
        var count = ReadTaggedFieldCount();
        for (var i = 0; i < count; i++)
        {
            ReadUnsignedVarint();
            Skip(ReadTaggedFieldSize());
        }
    }

    public void Skip(int count)
    {
        if (count < 0 || count > _reader.Remaining) KafkaThrow.BadLength("skip", count, _reader.Remaining);
        _reader.Advance(count);
    }

    /// <summary>Checks that a known tagged field consumed exactly the size its prefix declared.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void EnsureTaggedFieldConsumed(long start, int size, uint tag)
    {
        if (_reader.Consumed - start != size)
            KafkaThrow.Invalid($"tagged field {tag} declared {size} bytes but its value took {_reader.Consumed - start}");
    }
}
