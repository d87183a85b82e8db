using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeStream.Records;

/// <summary>
/// CRC-32C (Castagnoli), as record batches v2 use it. <see cref="BitOperations.Crc32C(uint, ulong)"/>
/// maps to the SSE4.2 / ARMv8 CRC instructions where the CPU has them.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more bytes; start from 0 for a fresh checksum.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var state = ~crc;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
            state = BitOperations.Crc32C(state, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        foreach (var b in data[(words.Length * sizeof(ulong))..])
            state = BitOperations.Crc32C(state, b);
        return ~state;
    }
}
