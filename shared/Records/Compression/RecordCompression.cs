using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Snappier;

namespace EdgeStream.Records;

/// <summary>
/// The record-batch compression codecs (attribute bits 0-2): gzip, snappy, lz4 and zstd. The records
/// section after the 61-byte batch header is compressed as a whole. Decompression enforces a byte limit,
/// so a hostile batch cannot inflate into an out-of-memory ("zip bomb").
/// </summary>
public static class RecordCompression
{
    /// <summary>Block size the Java client's snappy-java SnappyOutputStream uses (32 KiB).</summary>
    private const int XerialBlockSize = 32 * 1024;

    /// <summary>xerial snappy-java stream header: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, then version and compatible version (int32 BE, both 1).</summary>
    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];
    private const int XerialHeaderSize = 16;

    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data) => type switch
    {
        CompressionType.None => data.ToArray(),
        CompressionType.Gzip => CompressGzip(data),
        CompressionType.Snappy => CompressXerialSnappy(data),
        CompressionType.Lz4 => CompressLz4(data),
        CompressionType.Zstd => CompressZstd(data),
        _ => throw new CorruptRecordException($"unknown compression codec {(int)type}"),
    };

    public static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> data, int maxBytes)
    {
        if (maxBytes < 0) throw new ArgumentOutOfRangeException(nameof(maxBytes));
        try
        {
            return type switch
            {
                CompressionType.None => data.Length <= maxBytes ? data.ToArray() : throw TooLarge(maxBytes),
                CompressionType.Gzip => DecompressStream(new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress), maxBytes),
                CompressionType.Snappy => DecompressSnappy(data, maxBytes),
                CompressionType.Lz4 => DecompressStream(LZ4Stream.Decode(new MemoryStream(data.ToArray())), maxBytes),
                CompressionType.Zstd => DecompressStream(new ZstdSharp.DecompressionStream(new MemoryStream(data.ToArray())), maxBytes),
                _ => throw new CorruptRecordException($"unknown compression codec {(int)type}"),
            };
        }
        catch (CorruptRecordException)
        {
            throw;
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or IOException
                                       or ArgumentException or IndexOutOfRangeException or ZstdSharp.ZstdException)
        {
            // The codec libraries report malformed input in their own ways; callers see one type.
            throw new CorruptRecordException($"{type} data does not decompress: {ex.Message}");
        }
    }

    private static CorruptRecordException TooLarge(int maxBytes) =>
        new($"decompressed records exceed the {maxBytes}-byte limit");

    private static byte[] CompressGzip(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(data);
        return output.ToArray();
    }

    /// <summary>
    /// LZ4 frame format with independent 64 KiB blocks and no block checksums: what the Java client's
    /// KafkaLZ4BlockOutputStream writes and what both it and librdkafka read.
    /// </summary>
    private static byte[] CompressLz4(ReadOnlySpan<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(data.Length / 2 + 64);
        var settings = new LZ4EncoderSettings
        {
            ChainBlocks = false,
            BlockSize = 64 * 1024,
            ContentChecksum = false,
            BlockChecksum = false,
            CompressionLevel = LZ4Level.L00_FAST,
        };
        LZ4Frame.Encode(data, output, settings);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] CompressZstd(ReadOnlySpan<byte> data)
    {
        using var compressor = new ZstdSharp.Compressor(3);
        return compressor.Wrap(data).ToArray();
    }

    /// <summary>
    /// Snappy in the xerial snappy-java framing the Java client writes (and librdkafka reads):
    /// 16-byte header, then blocks of INT32 BE compressed length + raw snappy data.
    /// </summary>
    private static byte[] CompressXerialSnappy(ReadOnlySpan<byte> data)
    {
        var output = new ArrayBufferWriter<byte>(XerialHeaderSize + Snappy.GetMaxCompressedLength(data.Length) + 4 * (data.Length / XerialBlockSize + 1));
        var header = output.GetSpan(XerialHeaderSize);
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], 1);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], 1);
        output.Advance(XerialHeaderSize);
        for (var offset = 0; offset < data.Length; offset += XerialBlockSize)
        {
            var block = data.Slice(offset, Math.Min(XerialBlockSize, data.Length - offset));
            var span = output.GetSpan(4 + Snappy.GetMaxCompressedLength(block.Length));
            var n = Snappy.Compress(block, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, n);
            output.Advance(4 + n);
        }
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Accepts the xerial framing (Java clients) and raw snappy (some other clients).</summary>
    private static byte[] DecompressSnappy(ReadOnlySpan<byte> data, int maxBytes)
    {
        if (data.Length < XerialHeaderSize || !data[..XerialMagic.Length].SequenceEqual(XerialMagic))
            return DecompressRawSnappy(data, maxBytes);

        // Sum the block lengths first, so the output is allocated once and never beyond the limit.
        var total = 0L;
        var p = XerialHeaderSize;
        while (p < data.Length)
        {
            if (data.Length - p < 4) throw new CorruptRecordException("xerial snappy: truncated block length");
            var length = BinaryPrimitives.ReadInt32BigEndian(data[p..]);
            if (length < 0 || length > data.Length - p - 4) throw new CorruptRecordException($"xerial snappy: bad block length {length}");
            var block = data.Slice(p + 4, length);
            total += UncompressedLength(block);
            if (total > maxBytes) throw TooLarge(maxBytes);
            p += 4 + length;
        }
        var result = new byte[total];
        var written = 0;
        p = XerialHeaderSize;
        while (p < data.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data[p..]);
            written += Snappy.Decompress(data.Slice(p + 4, length), result.AsSpan(written));
            p += 4 + length;
        }
        return result;
    }

    private static byte[] DecompressRawSnappy(ReadOnlySpan<byte> data, int maxBytes)
    {
        var length = UncompressedLength(data);
        if (length > maxBytes) throw TooLarge(maxBytes);
        var result = new byte[length];
        var n = Snappy.Decompress(data, result);
        return n == length ? result : result.AsSpan(0, n).ToArray();
    }

    /// <summary>
    /// The raw snappy preamble: the uncompressed length as an unsigned varint. A snappy element expands at
    /// most 64 bytes from 3, so a length beyond 32 times the input is a lie; reject it before allocating.
    /// </summary>
    private static int UncompressedLength(ReadOnlySpan<byte> block)
    {
        if (!Varint.TryReadUnsigned(block, out uint length, out _) || length > 32L * block.Length + 64)
            throw new CorruptRecordException("snappy: bad uncompressed length");
        return (int)length;
    }

    /// <summary>Reads a decompressing stream to its end, failing once more than <paramref name="maxBytes"/> come out.</summary>
    private static byte[] DecompressStream(Stream stream, int maxBytes)
    {
        using (stream)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                var output = new MemoryStream();
                int n;
                while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    if (output.Length + n > maxBytes) throw TooLarge(maxBytes);
                    output.Write(buffer, 0, n);
                }
                return output.ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
