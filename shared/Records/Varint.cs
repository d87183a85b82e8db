namespace EdgeStream.Records;

/// <summary>
/// Variable-length integers as Kafka uses them: unsigned LEB128 ("unsigned varint", compact
/// lengths and tags) and zig-zag signed varints (record fields). Protocol guide, "Protocol Primitive Types".
/// </summary>
public static class Varint
{
    public const int MaxLength32 = 5;
    public const int MaxLength64 = 10;

    public static int SizeOfUnsigned(uint value)
    {
        var size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    public static int SizeOfUnsigned(ulong value)
    {
        var size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    public static int SizeOf(int value) => SizeOfUnsigned(ZigZag(value));
    public static int SizeOf(long value) => SizeOfUnsigned(ZigZag(value));

    public static uint ZigZag(int value) => (uint)((value << 1) ^ (value >> 31));
    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));
    public static int UnZigZag(uint value) => (int)(value >> 1) ^ -(int)(value & 1);
    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    public static int WriteUnsigned(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static int WriteUnsigned(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }

    public static int Write(Span<byte> destination, int value) => WriteUnsigned(destination, ZigZag(value));
    public static int Write(Span<byte> destination, long value) => WriteUnsigned(destination, ZigZag(value));

    /// <summary>Reads an unsigned varint of at most 5 bytes. Returns false when truncated or overlong.</summary>
    public static bool TryReadUnsigned(ReadOnlySpan<byte> source, out uint value, out int bytesRead)
    {
        value = 0;
        for (var i = 0; i < MaxLength32 && i < source.Length; i++)
        {
            var b = source[i];
            if (i == MaxLength32 - 1 && b > 0x0F)
                break; // more than 32 bits of payload
            value |= (uint)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                bytesRead = i + 1;
                return true;
            }
        }
        value = 0;
        bytesRead = 0;
        return false;
    }

    /// <summary>Reads an unsigned varint of at most 10 bytes. Returns false when truncated or overlong.</summary>
    public static bool TryReadUnsigned(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        value = 0;
        for (var i = 0; i < MaxLength64 && i < source.Length; i++)
        {
            var b = source[i];
            if (i == MaxLength64 - 1 && b > 0x01)
                break; // more than 64 bits of payload
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                bytesRead = i + 1;
                return true;
            }
        }
        value = 0;
        bytesRead = 0;
        return false;
    }

    public static bool TryRead(ReadOnlySpan<byte> source, out int value, out int bytesRead)
    {
        var ok = TryReadUnsigned(source, out uint raw, out bytesRead);
        value = UnZigZag(raw);
        return ok;
    }

    public static bool TryRead(ReadOnlySpan<byte> source, out long value, out int bytesRead)
    {
        var ok = TryReadUnsigned(source, out ulong raw, out bytesRead);
        value = UnZigZag(raw);
        return ok;
    }
}
