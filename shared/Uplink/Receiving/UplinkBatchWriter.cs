using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using EdgeStream.Kafka.Protocol.Records;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Receiving;

/// <summary>
/// Turns a contiguous run of a frame's records into Kafka v2 record batches (LZ4) for the target
/// partition. Each batch carries its origin in the header, which is how de-duplication survives a
/// restart: ProducerId = origin stream id, and the batch's FIRST origin offset split as
/// ProducerEpoch (high 15 bits) and BaseSequence (low 31 bits); its last origin offset is
/// first + LastOffsetDelta. Every record gets the user's headers byte for byte, then the four
/// origin headers. No I/O.
/// </summary>
public static class UplinkBatchWriter
{
    /// <summary>Origin offsets must fit in 15 + 31 bits to be encoded in the batch header.</summary>
    public const long MaxOriginOffset = (1L << 46) - 1;

    /// <summary>First origin offset of a batch the receiver wrote (valid only for a stream-id ProducerId).</summary>
    public static long FirstOriginOffset(in RecordBatchHeader header) =>
        ((long)header.ProducerEpoch << 31) | (uint)header.BaseSequence;

    /// <summary>
    /// Appends to <paramref name="output"/> the batches for records [<paramref name="start"/>, <paramref name="end"/>)
    /// of <paramref name="frame"/>, each at most <paramref name="maxBatchBytes"/> (the topic's max.message.bytes).
    /// Throws <see cref="RecordTooLargeException"/> when a single record cannot fit.
    /// </summary>
    public static void Write(UplinkFrame frame, long streamId, int start, int end, int maxBatchBytes, ArrayBufferWriter<byte> output)
    {
        if (start < 0 || end > frame.Records.Count || start >= end) throw new ArgumentOutOfRangeException(nameof(start));
        var origin = new OriginHeaderValues(frame);
        // Records section budget: the batch is the 61-byte header plus the records.
        var budget = (long)maxBatchBytes - RecordBatchHeader.Size;
        var builder = new RecordBatchBuilder();
        var batchStart = start;
        long estimate = 0;
        for (var i = start; i < end; i++)
        {
            var size = EstimateRecordSize(frame.Records[i], origin);
            if (builder.Count > 0 && estimate + size > budget)
            {
                Flush(builder, frame, streamId, batchStart, maxBatchBytes, output);
                batchStart = i;
                estimate = 0;
            }
            AddRecord(builder, frame, i, origin);
            estimate += size;
        }
        Flush(builder, frame, streamId, batchStart, maxBatchBytes, output);
    }

    private static void Flush(RecordBatchBuilder builder, UplinkFrame frame, long streamId, int batchStart, int maxBatchBytes, ArrayBufferWriter<byte> output)
    {
        var first = frame.FirstOriginOffset + batchStart;
        builder.ProducerId = streamId;
        builder.ProducerEpoch = (short)(first >> 31);
        builder.BaseSequence = (int)(first & int.MaxValue);
        var batch = builder.Build(CompressionType.Lz4);
        // Incompressible data can grow a little under LZ4 framing; the estimate bounds the plain size.
        if (batch.Length > maxBatchBytes) batch = builder.Build(CompressionType.None);
        if (batch.Length > maxBatchBytes)
        {
            throw new RecordTooLargeException(
                $"origin offset {first}: a batch of {builder.Count} record(s) takes {batch.Length} bytes, over the target topic's max.message.bytes {maxBatchBytes}");
        }
        output.Write(batch);
        builder.Reset();
    }

    private static void AddRecord(RecordBatchBuilder builder, UplinkFrame frame, int index, OriginHeaderValues origin)
    {
        var record = frame.Records[index];
        var user = record.Headers;
        // The builder copies every byte in Add, so one header array and one offset buffer serve all
        // records of the frame (no allocation per record unless the header count changes).
        var headers = origin.HeadersFor(user.Count);
        for (var h = 0; h < user.Count; h++) headers[h] = user[h];
        Utf8Formatter.TryFormat(frame.FirstOriginOffset + index, origin.OffsetBuffer, out var written);
        headers[user.Count] = new RecordHeader(OriginHeaders.Node, origin.Node);
        headers[user.Count + 1] = new RecordHeader(OriginHeaders.Topic, origin.Topic);
        headers[user.Count + 2] = new RecordHeader(OriginHeaders.Partition, origin.Partition);
        headers[user.Count + 3] = new RecordHeader(OriginHeaders.Offset, origin.OffsetBuffer.AsMemory(0, written));
        builder.Add(new ProducerRecord(record.Key, record.Value, record.Timestamp, headers));
    }

    // An upper bound of the record's encoded size (varints at their widest), so a batch built
    // under the budget is never over it.
    private static long EstimateRecordSize(in UplinkRecord record, OriginHeaderValues origin)
    {
        long size = 5 + 1 + 10 + 5 + 5 + (record.Key?.Length ?? 0) + 5 + (record.Value?.Length ?? 0) + 5;
        var headers = record.Headers;
        for (var h = 0; h < headers.Count; h++)
            size += 10 + Encoding.UTF8.GetMaxByteCount(headers[h].Key.Length) + (headers[h].Value?.Length ?? 0);
        return size + origin.FixedHeaderBytes;
    }

    /// <summary>The origin header values shared by every record of a frame.</summary>
    private sealed class OriginHeaderValues
    {
        public OriginHeaderValues(UplinkFrame frame)
        {
            Node = Encoding.UTF8.GetBytes(frame.OriginNode);
            Topic = Encoding.UTF8.GetBytes(frame.OriginTopic);
            Partition = Encoding.ASCII.GetBytes(frame.OriginPartition.ToString(CultureInfo.InvariantCulture));
            FixedHeaderBytes = 4 * 10 + OriginHeaders.Node.Length + OriginHeaders.Topic.Length + OriginHeaders.Partition.Length
                + OriginHeaders.Offset.Length + Node.Length + Topic.Length + Partition.Length + 20;
        }

        public byte[] Node { get; }
        public byte[] Topic { get; }
        public byte[] Partition { get; }
        public int FixedHeaderBytes { get; }
        /// <summary>Decimal text of one origin offset (at most 20 digits for a long).</summary>
        public byte[] OffsetBuffer { get; } = new byte[20];

        private RecordHeader[] _headers = [];

        public RecordHeader[] HeadersFor(int userHeaders)
        {
            if (_headers.Length != userHeaders + 4) _headers = new RecordHeader[userHeaders + 4];
            return _headers;
        }
    }
}

/// <summary>A record that cannot be stored in the target topic whatever the batching (bigger than max.message.bytes).</summary>
public sealed class RecordTooLargeException : Exception
{
    public RecordTooLargeException(string message) : base(message) { }
}
