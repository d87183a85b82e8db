using System.Buffers;
using System.Buffers.Binary;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Protocol.Primitives;

/// <summary>A parsed request: its header and its body.</summary>
public readonly record struct KafkaRequest(RequestHeader Header, IKafkaApiMessage Body);

/// <summary>
/// Kafka's framing: every request and response is <c>size INT32 (big-endian) | size bytes</c>.
/// </summary>
public static class KafkaFraming
{
    public const int SizePrefixLength = 4;
    /// <summary>The broker default for socket.request.max.bytes (100 MiB).</summary>
    public const int DefaultMaxFrameSize = 100 * 1024 * 1024;

    /// <summary>
    /// Takes one whole frame off the front of <paramref name="buffer"/>. Returns false when more bytes are
    /// needed. A negative size or one above <paramref name="maxFrameSize"/> is a framing violation: it throws
    /// <see cref="KafkaProtocolException"/> and the connection should close.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < SizePrefixLength) return false;
        int size;
        if (buffer.FirstSpan.Length >= SizePrefixLength)
            size = BinaryPrimitives.ReadInt32BigEndian(buffer.FirstSpan);
        else
        {
            Span<byte> prefix = stackalloc byte[SizePrefixLength];
            buffer.Slice(0, SizePrefixLength).CopyTo(prefix);
            size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        }
        if (size < 0 || size > maxFrameSize) KafkaThrow.BadLength("frame", size, maxFrameSize);
        if (buffer.Length - SizePrefixLength < size) return false;
        frame = buffer.Slice(SizePrefixLength, size);
        buffer = buffer.Slice(frame.End);
        return true;
    }

    /// <summary>
    /// Parses a request frame (without its size prefix): header, then body. Unknown api keys and versions
    /// throw <see cref="UnsupportedVersionException"/> after the header was read.
    /// </summary>
    public static KafkaRequest ParseRequest(ReadOnlySequence<byte> frame)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        if (!KafkaApis.IsSupported(header.ApiKey, header.ApiVersion))
            throw new UnsupportedVersionException(header.ApiKey, header.ApiVersion,
                $"API key {header.ApiKey} version {header.ApiVersion} is not supported") { Header = header };
        var body = KafkaApis.ReadRequest((ApiKey)header.ApiKey, header.ApiVersion, ref reader);
        return new KafkaRequest(header, body);
    }

    /// <summary>Writes <c>size | request header | body</c>.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, RequestHeader header, IKafkaMessage body)
    {
        var scratch = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(scratch);
        header.Write(ref writer);
        body.Write(ref writer, header.ApiVersion);
        writer.Flush();
        WritePrefixed(output, scratch.WrittenSpan);
    }

    /// <summary>
    /// Writes <c>size | response header | body</c>, picking the header version for the api, straight
    /// into <paramref name="output"/>: a measuring pass computes the size first, so nothing is encoded
    /// into an intermediate buffer and a fetch response's record bytes are copied once, into the output.
    /// </summary>
    public static void WriteResponse(IBufferWriter<byte> output, int correlationId, ApiKey apiKey, short apiVersion, IKafkaMessage body)
    {
        var header = new ResponseHeader { CorrelationId = correlationId };
        var headerVersion = KafkaHeaders.ResponseHeaderVersion((short)apiKey, apiVersion);
        var measure = KafkaWriter.Measuring();
        header.Write(ref measure, headerVersion);
        body.Write(ref measure, apiVersion);
        measure.Flush();
        var size = measure.BytesWritten;
        if (size > int.MaxValue) throw new KafkaProtocolException($"response of {size} bytes is too large to frame");

        var writer = new KafkaWriter(output);
        writer.WriteInt32((int)size);
        header.Write(ref writer, headerVersion);
        body.Write(ref writer, apiVersion);
        writer.Flush();
        if (writer.BytesWritten != size + SizePrefixLength)
            throw new InvalidOperationException($"{apiKey} v{apiVersion} response encoded to {writer.BytesWritten - SizePrefixLength} bytes, measured {size}");
    }

    private static void WritePrefixed(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var span = output.GetSpan(SizePrefixLength + payload.Length);
        BinaryPrimitives.WriteInt32BigEndian(span, payload.Length);
        payload.CopyTo(span[SizePrefixLength..]);
        output.Advance(SizePrefixLength + payload.Length);
    }
}
