using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// Turns a contiguous run of a frame's records into Kafka v2 record batches for the target
/// partition (LZ4-compressed when asked and when it makes the batch smaller). Each batch carries
/// its origin in the header, which is how de-duplication survives a restart: ProducerId = origin
/// stream id, and the batch's FIRST origin offset split as ProducerEpoch (high 15 bits) and
/// BaseSequence (low 31 bits); its last origin offset is first + LastOffsetDelta. Every record gets
/// the user's headers byte for byte, then the four origin headers. No I/O.
/// <para>
/// Records are encoded straight into a pooled buffer (the wire layout of
/// <see cref="RecordBatchBuilder"/>): the three origin headers that are the same for the whole
/// frame are encoded once, only the offset header is formatted per record, and nothing is
/// allocated per record. This is the receiver's hot path.
/// </para>
/// </summary>
public static class UplinkBatchWriter
{
    /// <summary>Origin offsets must fit in 15 + 31 bits to be encoded in the batch header.</summary>
    public const long MaxOriginOffset = (1L << 46) - 1;

    private const int OriginHeaderCount = 4;

    /// <summary>First origin offset of a batch the receiver wrote (valid only for a stream-id ProducerId).</summary>
    public static long FirstOriginOffset(in RecordBatchHeader header) =>
        ((long)header.ProducerEpoch << 31) | (uint)header.BaseSequence;

    /// <summary>
    /// Appends to <paramref name="output"/> the batches for records [<paramref name="start"/>, <paramref name="end"/>)
    /// of <paramref name="frame"/>, each at most <paramref name="maxBatchBytes"/> (the topic's max.message.bytes),
    /// LZ4-compressed when <paramref name="compress"/> is set and that makes the batch smaller.
    /// Throws <see cref="RecordTooLargeException"/> when a single record cannot fit.
    /// </summary>
    public static void Write(UplinkFrame frame, long streamId, int start, int end, int maxBatchBytes, IBufferWriter<byte> output, bool compress = true)
    {
        if (start < 0 || end > frame.Records.Count || start >= end) throw new ArgumentOutOfRangeException(nameof(start));
        var origin = new OriginHeaderBytes(frame);
        // Records section budget: the batch is the 61-byte header plus the records.
        var budget = (long)maxBatchBytes - RecordBatchHeader.Size;
        var records = frame.Records;
        using var scratch = new PooledBufferWriter((int)Math.Min(budget, 64 * 1024));
        Span<byte> offsetText = stackalloc byte[20];
        var batchStart = start;
        long baseTimestamp = 0, maxTimestamp = -1;
        for (var i = start; i < end; i++)
        {
            var record = records[i];
            var originOffset = frame.FirstOriginOffset + i;
            Utf8Formatter.TryFormat(originOffset, offsetText, out var digits);
            if (i > batchStart)
            {
                var size = RecordSize(record, record.Timestamp - baseTimestamp, i - batchStart, origin, digits, out _);
                if (scratch.WrittenCount + size > budget)
                {
                    Flush(scratch, frame, streamId, batchStart, i - batchStart, baseTimestamp, maxTimestamp, maxBatchBytes, compress, output);
                    batchStart = i;
                }
            }
            if (i == batchStart)
            {
                baseTimestamp = record.Timestamp;
                maxTimestamp = -1;
            }
            if (record.Timestamp > maxTimestamp) maxTimestamp = record.Timestamp;
            WriteRecord(scratch, record, record.Timestamp - baseTimestamp, i - batchStart, origin, offsetText[..digits]);
        }
        Flush(scratch, frame, streamId, batchStart, end - batchStart, baseTimestamp, maxTimestamp, maxBatchBytes, compress, output);
    }

    private static void Flush(PooledBufferWriter scratch, UplinkFrame frame, long streamId, int batchStart, int count, long baseTimestamp, long maxTimestamp,
        int maxBatchBytes, bool compress, IBufferWriter<byte> output)
    {
        var first = frame.FirstOriginOffset + batchStart;
        ReadOnlySpan<byte> records = scratch.WrittenSpan;
        var compression = CompressionType.None;
        if (compress)
        {
            var compressed = RecordCompression.Compress(CompressionType.Lz4, records);
            // Incompressible data grows a little under LZ4 framing: then the plain records are stored.
            if (compressed.Length < records.Length)
            {
                records = compressed;
                compression = CompressionType.Lz4;
            }
        }
        var total = RecordBatchHeader.Size + records.Length;
        if (total > maxBatchBytes)
        {
            throw new RecordTooLargeException(
                $"origin offset {first}: a batch of {count} record(s) takes {total} bytes, over the target topic's max.message.bytes {maxBatchBytes}");
        }
        var s = output.GetSpan(total)[..total];
        records.CopyTo(s[RecordBatchHeader.Size..]);
        RecordBatchHeader.WriteSealed(s, (short)compression, count, baseTimestamp, maxTimestamp,
            producerId: streamId, producerEpoch: (short)(first >> 31), baseSequence: (int)(first & int.MaxValue));
        output.Advance(total);
        scratch.Clear();
    }

    // Record layout: RecordEncoding. The user's headers come first, then the four origin headers.
    private static int BodySize(in UplinkRecord record, long timestampDelta, int offsetDelta, OriginHeaderBytes origin, int digits)
    {
        var headers = record.Headers;
        var size = RecordEncoding.FieldsSize(timestampDelta, offsetDelta, record.Key, record.Value, headers.Count + OriginHeaderCount)
            + origin.Fixed.Length + origin.OffsetKey.Length + Varint.SizeOf(digits) + digits;
        for (var h = 0; h < headers.Count; h++) size += RecordEncoding.HeaderSize(headers[h]);
        return size;
    }

    private static int RecordSize(in UplinkRecord record, long timestampDelta, int offsetDelta, OriginHeaderBytes origin, int digits, out int body)
    {
        body = BodySize(record, timestampDelta, offsetDelta, origin, digits);
        return Varint.SizeOf(body) + body;
    }

    private static void WriteRecord(PooledBufferWriter output, in UplinkRecord record, long timestampDelta, int offsetDelta, OriginHeaderBytes origin, ReadOnlySpan<byte> offsetText)
    {
        var size = RecordSize(record, timestampDelta, offsetDelta, origin, offsetText.Length, out var body);
        var span = output.GetSpan(size);
        var p = Varint.Write(span, body);
        var headers = record.Headers;
        p += RecordEncoding.WriteFields(span[p..], timestampDelta, offsetDelta, record.Key, record.Value, headers.Count + OriginHeaderCount);
        for (var h = 0; h < headers.Count; h++) p += RecordEncoding.WriteHeader(span[p..], headers[h]);
        origin.Fixed.CopyTo(span[p..]);
        p += origin.Fixed.Length;
        origin.OffsetKey.CopyTo(span[p..]);
        p += origin.OffsetKey.Length;
        p += Varint.Write(span[p..], offsetText.Length);
        offsetText.CopyTo(span[p..]);
        p += offsetText.Length;
        output.Advance(p);
    }

    /// <summary>The origin headers of a frame, encoded once: node, topic and partition whole, the offset header's key.</summary>
    private sealed class OriginHeaderBytes
    {
        public OriginHeaderBytes(UplinkFrame frame)
        {
            var w = new ArrayBufferWriter<byte>(256);
            Header(w, OriginHeaders.Node, Encoding.UTF8.GetBytes(frame.OriginNode));
            Header(w, OriginHeaders.Topic, Encoding.UTF8.GetBytes(frame.OriginTopic));
            Header(w, OriginHeaders.Partition, Encoding.ASCII.GetBytes(frame.OriginPartition.ToString(CultureInfo.InvariantCulture)));
            Fixed = w.WrittenSpan.ToArray();
            var key = Encoding.UTF8.GetBytes(OriginHeaders.Offset);
            OffsetKey = new byte[Varint.SizeOf(key.Length) + key.Length];
            var n = Varint.Write(OffsetKey, key.Length);
            key.CopyTo(OffsetKey.AsSpan(n));
        }

        /// <summary>The node, topic and partition headers, complete.</summary>
        public byte[] Fixed { get; }
        /// <summary>keyLength varint and key of the offset header; its value follows per record.</summary>
        public byte[] OffsetKey { get; }

        private static void Header(ArrayBufferWriter<byte> w, string key, byte[] value)
        {
            var header = new RecordHeader(key, value);
            w.Advance(RecordEncoding.WriteHeader(w.GetSpan(RecordEncoding.HeaderSize(header)), header));
        }
    }
}
