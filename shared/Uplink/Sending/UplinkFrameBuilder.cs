using System.Buffers.Text;
using System.Text;
using EdgeStream.Records;
using EdgeStream.Storage.Transactions;
using EdgeStream.Uplink.Protocol;

namespace EdgeStream.Uplink.Sending;

/// <summary>Where the batches handed to <see cref="UplinkFrameBuilder"/> come from, and where they go.</summary>
/// <param name="NodeId">This node: the origin of records that carry no origin headers.</param>
/// <param name="LocalTopic">The local topic read.</param>
/// <param name="LocalPartition">The local partition read.</param>
/// <param name="PartitionCount">Partitions of the local topic.</param>
/// <param name="TargetTopic">The topic at the parent (after rename/prefix).</param>
/// <param name="RelayOrigins">True on a gateway: records with <c>es.origin.*</c> headers keep that origin and lose the headers.</param>
public readonly record struct FrameSource(string NodeId, string LocalTopic, int LocalPartition, int PartitionCount, string TargetTopic, bool RelayOrigins);

/// <summary>A frame plus the local offsets it covers: [<see cref="LocalStart"/>, <see cref="LocalEnd"/>).</summary>
public sealed class BuiltFrame
{
    public required UplinkFrame Frame { get; init; }
    /// <summary>Local offset of the first record.</summary>
    public required long LocalStart { get; init; }
    /// <summary>One past the local offset of the last record: the cursor once the parent acked this frame.</summary>
    public required long LocalEnd { get; init; }
    /// <summary>Estimated uncompressed size (what the adaptive frame size targets).</summary>
    public required int EstimatedBytes { get; init; }
}

/// <summary>
/// Turns stored record batches into uplink frames. No I/O. A frame holds records of ONE origin
/// stream with contiguous origin offsets and about <c>targetBytes</c> of data, so a new frame starts
/// where the origin stream changes (a gateway relaying several edges), where origin offsets have a
/// gap (compaction, control batches, a relayed stream's own gaps) and where the size target is
/// reached (also in the middle of a batch). Control batches (transaction markers) and the batches
/// of aborted transactions are skipped.
/// </summary>
public static class UplinkFrameBuilder
{
    /// <summary>Records per frame at most (the receiver's default limit is 1 000 000).</summary>
    public const int MaxRecordsPerFrame = 100_000;

    private const int RecordOverhead = 24;

    /// <summary>
    /// Builds frames from the whole batches in <paramref name="batches"/>, skipping records below
    /// <paramref name="from"/> (a read starts at the batch that holds it). Appends to
    /// <paramref name="frames"/> and returns the local offset reading should continue from.
    /// Keys, values and headers slice <paramref name="batches"/> (or the decompressed copy): encode
    /// the frames before the buffer is released.
    /// </summary>
    /// <param name="aborted">Aborted transactions overlapping the batches: their producers' transactional batches inside them are dropped.</param>
    public static long Build(ReadOnlyMemory<byte> batches, long from, in FrameSource source, int targetBytes, List<BuiltFrame> frames,
        IReadOnlyList<AbortedTransaction>? aborted = null)
    {
        var position = from;
        var acc = new Accumulator(source);
        var memory = batches;
        while (memory.Length >= RecordBatchHeader.Size && RecordBatchHeader.TryRead(memory.Span, out var header))
        {
            var size = header.TotalSize;
            if (size < RecordBatchHeader.Size || size > memory.Length) break;
            var batch = memory[..size];
            memory = memory[size..];
            var batchEnd = header.LastOffset + 1;
            if (batchEnd <= from) continue;
            if (!header.IsControl && !(aborted is not null && header.IsTransactional && IsAborted(aborted, header)))
            {
                var records = RecordBatchReader.ReadRecords(batch);
                for (var i = 0; i < records.Count; i++)
                {
                    var record = records[i];
                    if (record.Offset < from) continue;
                    acc.Add(record, targetBytes, frames);
                }
            }
            position = Math.Max(position, batchEnd);
        }
        acc.Flush(frames);
        return position;
    }

    private static bool IsAborted(IReadOnlyList<AbortedTransaction> aborted, in RecordBatchHeader header)
    {
        for (var i = 0; i < aborted.Count; i++)
        {
            var a = aborted[i];
            if (a.ProducerId == header.ProducerId && header.BaseOffset >= a.FirstOffset && header.BaseOffset < a.LastOffset) return true;
        }
        return false;
    }

    /// <summary>Estimated bytes one record takes in a frame.</summary>
    public static int EstimateSize(ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader> headers)
    {
        var size = RecordOverhead + (key?.Length ?? 0) + (value?.Length ?? 0);
        for (var i = 0; i < headers.Count; i++) size += 4 + headers[i].Key.Length + (headers[i].Value?.Length ?? 0);
        return size;
    }

    /// <summary>
    /// Reads the origin a parent stamped on a relayed record: the LAST occurrence of each
    /// <c>es.origin.*</c> header (the receiver appends them after the user's own). False unless all
    /// four are present and well-formed.
    /// </summary>
    public static bool TryReadOrigin(IReadOnlyList<RecordHeader> headers, out string node, out string topic, out int partition, out long offset)
    {
        node = topic = "";
        partition = -1;
        offset = -1;
        ReadOnlyMemory<byte>? n = null, t = null, p = null, o = null;
        var found = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            var h = headers[i];
            switch (h.Key)
            {
                case OriginHeaders.Node: n = h.Value; found |= 1; break;
                case OriginHeaders.Topic: t = h.Value; found |= 2; break;
                case OriginHeaders.Partition: p = h.Value; found |= 4; break;
                case OriginHeaders.Offset: o = h.Value; found |= 8; break;
            }
        }
        if (found != 15 || n is not { Length: > 0 } nv || t is not { Length: > 0 } tv || p is not { } pv || o is not { } ov) return false;
        if (!Utf8Parser.TryParse(pv.Span, out partition, out var pc) || pc != pv.Length || partition < 0) return false;
        if (!Utf8Parser.TryParse(ov.Span, out offset, out var oc) || oc != ov.Length || offset < 0) return false;
        node = Encoding.UTF8.GetString(nv.Span);
        topic = Encoding.UTF8.GetString(tv.Span);
        return true;
    }

    private static IReadOnlyList<RecordHeader> WithoutOriginHeaders(IReadOnlyList<RecordHeader> headers)
    {
        var keep = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            if (!OriginHeaders.IsOriginHeader(headers[i].Key)) keep++;
        }
        if (keep == 0) return [];
        var result = new RecordHeader[keep];
        var j = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            if (!OriginHeaders.IsOriginHeader(headers[i].Key)) result[j++] = headers[i];
        }
        return result;
    }

    /// <summary>The frame being filled.</summary>
    private struct Accumulator(FrameSource source)
    {
        private readonly FrameSource _source = source;
        private List<UplinkRecord>? _records;
        private string _node = "";
        private string _topic = "";
        private int _partition;
        private long _firstOrigin;
        private long _nextOrigin;
        private long _localStart;
        private long _localEnd;
        private int _bytes;

        public void Add(in Record record, int targetBytes, List<BuiltFrame> frames)
        {
            string node, topic;
            int partition;
            long originOffset;
            var headers = record.Headers;
            if (_source.RelayOrigins && TryReadOrigin(headers, out node, out topic, out partition, out originOffset))
            {
                headers = WithoutOriginHeaders(headers);
            }
            else
            {
                node = _source.NodeId;
                topic = _source.LocalTopic;
                partition = _source.LocalPartition;
                originOffset = record.Offset;
            }
            var size = EstimateSize(record.Key, record.Value, headers);
            if (_records is { Count: > 0 } current
                && (originOffset != _nextOrigin || partition != _partition
                    || !string.Equals(node, _node, StringComparison.Ordinal) || !string.Equals(topic, _topic, StringComparison.Ordinal)
                    || _bytes + size > targetBytes || current.Count >= MaxRecordsPerFrame))
            {
                Flush(frames);
            }
            if (_records is null || _records.Count == 0)
            {
                _records ??= [];
                _node = node;
                _topic = topic;
                _partition = partition;
                _firstOrigin = originOffset;
                _localStart = record.Offset;
                _bytes = 0;
            }
            _records.Add(new UplinkRecord(record.Timestamp, record.Key, record.Value, headers));
            _nextOrigin = originOffset + 1;
            _localEnd = record.Offset + 1;
            _bytes += size;
        }

        public void Flush(List<BuiltFrame> frames)
        {
            if (_records is not { Count: > 0 } records) return;
            frames.Add(new BuiltFrame
            {
                Frame = new UplinkFrame
                {
                    OriginNode = _node,
                    OriginTopic = _topic,
                    OriginPartition = _partition,
                    OriginPartitionCount = Math.Max(_source.PartitionCount, _partition + 1),
                    TargetTopic = _source.TargetTopic,
                    FirstOriginOffset = _firstOrigin,
                    Records = records.ToArray(),
                },
                LocalStart = _localStart,
                LocalEnd = _localEnd,
                EstimatedBytes = _bytes,
            });
            records.Clear();
        }
    }
}
