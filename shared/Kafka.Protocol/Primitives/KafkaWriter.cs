using EdgeStream.Records;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace EdgeStream.Kafka.Protocol.Primitives;

/// <summary>
/// Writes Kafka protocol primitives into an <see cref="IBufferWriter{T}"/>, buffering into the span it hands
/// out (the Kestrel BufferWriter pattern). Call <see cref="Flush"/> when done.
/// </summary>
public ref struct KafkaWriter
{
    private readonly IBufferWriter<byte>? _output;
    private Span<byte> _span;
    private int _buffered;
    private long _committed;

    private const int LargeRaw = 4096;

    // A measuring writer's small fields land here and are thrown away; raw bytes (record sets) are only counted.
    [ThreadStatic] private static byte[]? t_measureScratch;

    public KafkaWriter(IBufferWriter<byte> output)
    {
        _output = output;
        _span = default;
        _buffered = 0;
        _committed = 0;
    }

    /// <summary>
    /// A writer that keeps nothing and only counts: the size of a message before it is written
    /// (so a response can go straight into the connection's pipe behind its size prefix, its record
    /// bytes copied once, from the segment into the pipe).
    /// </summary>
    public static KafkaWriter Measuring() => default;

    private readonly bool IsMeasuring => _output is null;

    /// <summary>Bytes written so far, flushed or not.</summary>
    public readonly long BytesWritten => _committed + _buffered;

    /// <summary>Advances the underlying writer past what was written.</summary>
    public void Flush()
    {
        if (_buffered > 0)
        {
            _output?.Advance(_buffered);
            _committed += _buffered;
            _buffered = 0;
            _span = default;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_span.Length - _buffered < size) Grow(size);
        return _span.Slice(_buffered, size);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int size)
    {
        Flush();
        if (_output is not null)
        {
            _span = _output.GetSpan(Math.Max(size, 256));
            return;
        }
        var scratch = t_measureScratch;
        if (scratch is null || scratch.Length < size) t_measureScratch = scratch = new byte[Math.Max(size, 4096)];
        _span = scratch;
    }

    public void WriteInt8(sbyte value)
    {
        Reserve(1)[0] = (byte)value;
        _buffered += 1;
    }

    public void WriteBool(bool value) => WriteInt8(value ? (sbyte)1 : (sbyte)0);

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);
        _buffered += 2;
    }

    public void WriteUInt16(ushort value) => WriteInt16((short)value);

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
        _buffered += 4;
    }

    public void WriteUInt32(uint value) => WriteInt32((int)value);

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);
        _buffered += 8;
    }

    public void WriteFloat64(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value));

    public void WriteUuid(Guid value)
    {
        value.TryWriteBytes(Reserve(16), bigEndian: true, out _);
        _buffered += 16;
    }

    public void WriteUnsignedVarint(uint value)
    {
        // Reserve may flush (resetting _buffered), so take the span before touching the counter.
        var span = Reserve(Varint.SizeOfUnsigned(value));
        _buffered += Varint.WriteUnsigned(span, value);
    }

    public void WriteVarint(int value) => WriteUnsignedVarint(Varint.ZigZag(value));

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return;
        if (IsMeasuring)
        {
            _committed += bytes.Length;
            return;
        }
        if (bytes.Length > LargeRaw && _span.Length - _buffered < bytes.Length)
        {
            // A record set: copied into whatever memory the output hands out, piece by piece,
            // rather than asking it for one span of that size (a pipe would allocate it unpooled).
            Flush();
            while (!bytes.IsEmpty)
            {
                var span = _output!.GetSpan(1);
                var n = Math.Min(span.Length, bytes.Length);
                bytes[..n].CopyTo(span);
                _output.Advance(n);
                _committed += n;
                bytes = bytes[n..];
            }
            return;
        }
        bytes.CopyTo(Reserve(bytes.Length));
        _buffered += bytes.Length;
    }

    private void WriteLength(int length, bool flexible, bool int16Prefix)
    {
        if (flexible) WriteUnsignedVarint((uint)(length + 1));
        else if (int16Prefix) WriteInt16((short)length);
        else WriteInt32(length);
    }

    public void WriteString(string value, bool flexible)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteNullableString(value, flexible);
    }

    public void WriteNullableString(string? value, bool flexible)
    {
        if (value is null)
        {
            WriteLength(-1, flexible, int16Prefix: true);
            return;
        }
        var byteCount = Encoding.UTF8.GetByteCount(value);
        if (byteCount > KafkaReader.MaxStringLength)
            throw new KafkaProtocolException($"string of {byteCount} bytes exceeds {KafkaReader.MaxStringLength}");
        WriteLength(byteCount, flexible, int16Prefix: true);
        if (byteCount == 0) return;
        var span = Reserve(byteCount);
        _buffered += Encoding.UTF8.GetBytes(value, span);
    }

    /// <summary>Bytes a COMPACT_(NULLABLE_)STRING takes: varint length + 1, then UTF-8.</summary>
    public static int CompactStringSize(string? value)
    {
        if (value is null) return 1;
        var byteCount = Encoding.UTF8.GetByteCount(value);
        return Varint.SizeOfUnsigned((uint)(byteCount + 1)) + byteCount;
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool flexible)
    {
        WriteLength(value.Length, flexible, int16Prefix: false);
        WriteRaw(value);
    }

    public void WriteNullableBytes(byte[]? value, bool flexible)
    {
        if (value is null) WriteLength(-1, flexible, int16Prefix: false);
        else WriteBytes(value, flexible);
    }

    public void WriteRecords(ReadOnlyMemory<byte>? value, bool flexible)
    {
        if (value is null) WriteLength(-1, flexible, int16Prefix: false);
        else WriteBytes(value.Value.Span, flexible);
    }

    /// <summary>ARRAY / COMPACT_ARRAY count; -1 writes null.</summary>
    public void WriteArrayLength(int count, bool flexible) => WriteLength(count, flexible, int16Prefix: false);

    /// <summary>Writes one tagged field whose value was encoded into <paramref name="value"/>.</summary>
    public void WriteTaggedField(uint tag, ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarint(tag);
        WriteUnsignedVarint((uint)value.Length);
        WriteRaw(value);
    }
}
