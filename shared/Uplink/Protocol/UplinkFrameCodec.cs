using System.Buffers;
using EdgeStream.Records;
using K4os.Compression.LZ4;
using MessagePack;

namespace EdgeStream.Uplink.Protocol;

/// <summary>Limits a receiver applies while decoding, checked before anything is allocated.</summary>
public sealed record UplinkFrameLimits
{
    /// <summary>Largest MessagePack frame (before compression) accepted.</summary>
    public int MaxFrameBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most records in one frame.</summary>
    public int MaxRecords { get; init; } = 1_000_000;

    /// <summary>Most headers on one record.</summary>
    public int MaxHeaders { get; init; } = 1024;

    public static UplinkFrameLimits Default { get; } = new();
}

/// <summary>
/// Encodes and decodes <see cref="UplinkFrame"/>: a MessagePack document written with
/// <see cref="MessagePackWriter"/>/<see cref="MessagePackReader"/> (no reflection, so trimming and
/// NativeAOT are safe), compressed as one LZ4 block. No I/O here.
/// <code>
/// frame   = [ version=1, originNode:str, originTopic:str, originPartition:int, originPartitionCount:int,
///             targetTopic:str, firstOriginOffset:int, records:[ record* ] ]
/// record  = [ timestamp:int, key:bin|nil, value:bin|nil, headers:[ (name:str, value:bin|nil)* ] ]
/// </code>
/// </summary>
public static class UplinkFrameCodec
{
    public const int FormatVersion = 1;
    private const int FrameFields = 8;
    private const int RecordFields = 4;

    /// <summary>Writes the uncompressed MessagePack frame.</summary>
    public static void WriteRaw(IBufferWriter<byte> output, UplinkFrame frame)
    {
        var w = new MessagePackWriter(output);
        w.WriteArrayHeader(FrameFields);
        w.Write(FormatVersion);
        w.Write(frame.OriginNode);
        w.Write(frame.OriginTopic);
        w.Write(frame.OriginPartition);
        w.Write(frame.OriginPartitionCount);
        w.Write(frame.TargetTopic);
        w.Write(frame.FirstOriginOffset);
        var records = frame.Records;
        w.WriteArrayHeader(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            w.WriteArrayHeader(RecordFields);
            w.Write(r.Timestamp);
            WriteBytes(ref w, r.Key);
            WriteBytes(ref w, r.Value);
            var headers = r.Headers;
            w.WriteArrayHeader(headers.Count * 2);
            for (var h = 0; h < headers.Count; h++)
            {
                w.Write(headers[h].Key);
                WriteBytes(ref w, headers[h].Value);
            }
        }
        w.Flush();
    }

    /// <summary>Encodes <paramref name="frame"/> and compresses it; <paramref name="rawLength"/> is the MessagePack length.</summary>
    public static byte[] Encode(UplinkFrame frame, out int rawLength) => Encode(frame, 4096, out rawLength);

    /// <summary>
    /// As <see cref="Encode(UplinkFrame, out int)"/>, with the expected MessagePack size: the
    /// uncompressed frame is written into a pooled buffer of about that size (no regrowth, no
    /// large-object-heap garbage); only the compressed payload is a new array.
    /// </summary>
    public static byte[] Encode(UplinkFrame frame, int sizeHint, out int rawLength)
    {
        using var raw = new PooledBufferWriter(sizeHint);
        WriteRaw(raw, frame);
        rawLength = raw.WrittenCount;
        var target = ArrayPool<byte>.Shared.Rent(LZ4Codec.MaximumOutputSize(rawLength));
        try
        {
            var n = LZ4Codec.Encode(raw.WrittenSpan, target);
            if (n < 0) throw new InvalidOperationException("LZ4 compression failed");
            return target.AsSpan(0, n).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(target);
        }
    }

    /// <summary>Decompresses and decodes one frame; throws <see cref="InvalidUplinkFrameException"/> on anything malformed or over a limit.</summary>
    public static UplinkFrame Decode(ReadOnlySpan<byte> payload, int rawLength, UplinkFrameLimits? limits = null)
    {
        limits ??= UplinkFrameLimits.Default;
        CheckRawLength(rawLength, limits);
        var raw = new byte[rawLength];
        Decompress(payload, raw);
        return DecodeRaw(raw, limits);
    }

    /// <summary>
    /// As <see cref="Decode"/>, but the frame is decompressed into <paramref name="rented"/>, an
    /// <see cref="ArrayPool{T}.Shared"/> array the frame's keys, values and headers slice: the
    /// caller returns it once it is done with the frame (also when this throws, it is null then).
    /// </summary>
    internal static UplinkFrame DecodePooled(ReadOnlySpan<byte> payload, int rawLength, UplinkFrameLimits limits, out byte[]? rented)
    {
        rented = null;
        CheckRawLength(rawLength, limits);
        var raw = ArrayPool<byte>.Shared.Rent(rawLength);
        try
        {
            Decompress(payload, raw.AsSpan(0, rawLength));
            var frame = DecodeRaw(raw.AsMemory(0, rawLength), limits);
            rented = raw;
            return frame;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(raw);
            throw;
        }
    }

    private static void CheckRawLength(int rawLength, UplinkFrameLimits limits)
    {
        if (rawLength <= 0 || rawLength > limits.MaxFrameBytes)
            throw new InvalidUplinkFrameException($"frame length {rawLength} is outside 1..{limits.MaxFrameBytes}");
    }

    private static void Decompress(ReadOnlySpan<byte> payload, Span<byte> raw)
    {
        int decoded;
        try
        {
            decoded = LZ4Codec.Decode(payload, raw);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidUplinkFrameException("payload is not an LZ4 block", ex);
        }
        if (decoded != raw.Length)
            throw new InvalidUplinkFrameException($"payload decompressed to {decoded} bytes, expected {raw.Length}");
    }

    /// <summary>Decodes an uncompressed frame. Keys, values and header values slice <paramref name="raw"/>.</summary>
    public static UplinkFrame DecodeRaw(ReadOnlyMemory<byte> raw, UplinkFrameLimits? limits = null)
    {
        limits ??= UplinkFrameLimits.Default;
        try
        {
            var r = new MessagePackReader(raw);
            Expect(r.ReadArrayHeader() == FrameFields, "frame is not an 8-element array");
            var version = r.ReadInt32();
            Expect(version == FormatVersion, $"unsupported frame version {version}");
            var originNode = ReadString(ref r, "originNode");
            var originTopic = ReadString(ref r, "originTopic");
            var originPartition = r.ReadInt32();
            var originPartitionCount = r.ReadInt32();
            var targetTopic = ReadString(ref r, "targetTopic");
            var first = r.ReadInt64();
            Expect(originPartition >= 0 && originPartitionCount > originPartition, $"origin partition {originPartition} of {originPartitionCount} is invalid");
            Expect(first >= 0, $"first origin offset {first} is negative");
            var count = r.ReadArrayHeader();
            Expect(count > 0 && count <= limits.MaxRecords, $"record count {count} is outside 1..{limits.MaxRecords}");
            Expect(first <= long.MaxValue - count, "origin offsets overflow");
            var records = new UplinkRecord[count];
            for (var i = 0; i < count; i++)
            {
                Expect(r.ReadArrayHeader() == RecordFields, "record is not a 4-element array");
                var timestamp = r.ReadInt64();
                var key = ReadBytes(ref r);
                var value = ReadBytes(ref r);
                var headerItems = r.ReadArrayHeader();
                Expect(headerItems % 2 == 0 && headerItems / 2 <= limits.MaxHeaders, $"header list of {headerItems} items is invalid");
                var headers = headerItems == 0 ? Array.Empty<RecordHeader>() : new RecordHeader[headerItems / 2];
                for (var h = 0; h < headers.Length; h++)
                    headers[h] = new RecordHeader(ReadString(ref r, "header name"), ReadBytes(ref r));
                records[i] = new UplinkRecord(timestamp, key, value, headers);
            }
            Expect(r.End, "trailing bytes after the frame");
            return new UplinkFrame
            {
                OriginNode = originNode,
                OriginTopic = originTopic,
                OriginPartition = originPartition,
                OriginPartitionCount = originPartitionCount,
                TargetTopic = targetTopic,
                FirstOriginOffset = first,
                Records = records,
            };
        }
        catch (InvalidUplinkFrameException)
        {
            throw;
        }
        // ArgumentException: MessagePackReader slices a bin/str whose declared length runs past the end.
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidUplinkFrameException("malformed MessagePack frame: " + ex.Message, ex);
        }
    }

    private static void WriteBytes(ref MessagePackWriter w, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is { } b) w.Write(b.Span);
        else w.WriteNil();
    }

    private static ReadOnlyMemory<byte>? ReadBytes(ref MessagePackReader r)
    {
        if (r.TryReadNil()) return null;
        var seq = r.ReadBytes();
        if (seq is not { } s) return null;
        if (s.IsEmpty) return ReadOnlyMemory<byte>.Empty;
        // The reader runs over one contiguous buffer: a single segment slices it instead of copying.
        return s.IsSingleSegment ? s.First : s.ToArray();
    }

    private static string ReadString(ref MessagePackReader r, string what)
    {
        var s = r.ReadString();
        Expect(s is not null, $"{what} is nil");
        return s!;
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition) throw new InvalidUplinkFrameException(message);
    }
}
