using System.Buffers.Binary;
using EdgeStream.Records;

namespace EdgeStream.Storage.Segments;

/// <summary>A region of a segment that holds no valid batch.</summary>
public readonly record struct DamagedRegion(long Position, long Length, BatchValidation Reason, bool IsTail);

/// <summary>What a full scan of one segment found.</summary>
internal sealed class SegmentScan
{
    /// <summary>Byte ranges of valid batches, in order, adjacent batches merged.</summary>
    public List<(int Position, int Length)> ValidRanges { get; } = [];
    public List<DamagedRegion> Damage { get; } = [];
    public int ValidBatches { get; set; }
    public long ValidBytes { get; set; }
    public long FirstOffset { get; set; } = -1;
    public long LastOffset { get; set; } = -1;
    public long MaxTimestamp { get; set; } = -1;
    /// <summary>True when the only damage is at the end: truncating the file repairs it.</summary>
    public bool OnlyTailDamage => Damage.Count == 0 || (Damage.Count == 1 && Damage[0].IsTail);
}

/// <summary>
/// Walks the batches of a segment checking each one (length, magic, CRC-32C, offsets moving
/// forward). On damage it searches forward for the next position where a valid batch starts, so
/// a corrupt batch in the middle costs only itself; damage with nothing valid after it is a torn tail.
/// </summary>
internal static class BatchScanner
{
    // Headroom above the largest max.message.bytes we accept, for the resync plausibility check.
    private const int MaxPlausibleBatch = 512 * 1024 * 1024 + RecordBatchHeader.Size;

    public static SegmentScan Scan(ReadOnlySpan<byte> data, long minBaseOffset, Action<int, RecordBatchHeader>? onValid = null)
    {
        var scan = new SegmentScan();
        var position = 0;
        var nextMin = minBaseOffset;
        while (position < data.Length)
        {
            var reason = Check(data, position, nextMin, out var header);
            if (reason == BatchValidation.Valid)
            {
                Accept(scan, position, header);
                onValid?.Invoke(position, header);
                nextMin = header.LastOffset + 1;
                position += header.TotalSize;
                continue;
            }
            var next = FindNextValid(data, position + 1, nextMin);
            var isTail = next < 0;
            var end = isTail ? data.Length : next;
            scan.Damage.Add(new DamagedRegion(position, end - position, reason, isTail));
            position = end;
        }
        return scan;
    }

    private static void Accept(SegmentScan scan, int position, in RecordBatchHeader header)
    {
        var ranges = scan.ValidRanges;
        if (ranges.Count > 0 && ranges[^1].Position + ranges[^1].Length == position)
            ranges[^1] = (ranges[^1].Position, ranges[^1].Length + header.TotalSize);
        else
            ranges.Add((position, header.TotalSize));
        scan.ValidBatches++;
        scan.ValidBytes += header.TotalSize;
        if (scan.FirstOffset < 0) scan.FirstOffset = header.BaseOffset;
        scan.LastOffset = header.LastOffset;
        if (header.MaxTimestamp > scan.MaxTimestamp) scan.MaxTimestamp = header.MaxTimestamp;
    }

    /// <summary>Checks the batch at <paramref name="position"/>, including that its offsets follow <paramref name="minBaseOffset"/>.</summary>
    public static BatchValidation Check(ReadOnlySpan<byte> data, int position, long minBaseOffset, out RecordBatchHeader header)
    {
        var rest = data[position..];
        var total = RecordBatchHeader.PeekTotalSize(rest);
        if (total < 0 || rest.Length < RecordBatchHeader.Size)
        {
            header = default;
            return BatchValidation.Truncated;
        }
        if (total < RecordBatchHeader.Size)
        {
            RecordBatchHeader.TryRead(rest, out header);
            return BatchValidation.BadLength;
        }
        if (total > rest.Length)
        {
            RecordBatchHeader.TryRead(rest, out header);
            return header.Magic == RecordBatchHeader.CurrentMagic && total <= MaxPlausibleBatch ? BatchValidation.Truncated : BatchValidation.BadLength;
        }
        var validation = RecordBatchHeader.Validate(rest[..total], out header);
        if (validation == BatchValidation.Valid && header.BaseOffset < minBaseOffset)
            return BatchValidation.BadLength; // offsets went backwards: not a batch of this log
        return validation;
    }

    /// <summary>The next position at or after <paramref name="from"/> where a plausible, CRC-valid batch starts; -1 if none.</summary>
    public static int FindNextValid(ReadOnlySpan<byte> data, int from, long minBaseOffset)
    {
        var last = data.Length - RecordBatchHeader.Size;
        for (var q = from; q <= last; q++)
        {
            // Cheap filters first: magic, a length that fits, sane offset and count fields. The CRC
            // runs only for candidates that pass them, so random bytes cost almost nothing.
            if (data[q + RecordBatchHeader.MagicPosition] != RecordBatchHeader.CurrentMagic) continue;
            var total = RecordBatchHeader.LogOverhead + BinaryPrimitives.ReadInt32BigEndian(data[(q + RecordBatchHeader.BatchLengthPosition)..]);
            if (total < RecordBatchHeader.Size || total > data.Length - q) continue;
            var baseOffset = BinaryPrimitives.ReadInt64BigEndian(data[q..]);
            if (baseOffset < minBaseOffset || baseOffset - minBaseOffset > int.MaxValue) continue;
            var lastDelta = BinaryPrimitives.ReadInt32BigEndian(data[(q + RecordBatchHeader.LastOffsetDeltaPosition)..]);
            var count = BinaryPrimitives.ReadInt32BigEndian(data[(q + RecordBatchHeader.RecordCountPosition)..]);
            if (lastDelta < 0 || count < 0 || count > lastDelta + 1) continue;
            if (RecordBatchHeader.Validate(data.Slice(q, total), out _) == BatchValidation.Valid)
                return q;
        }
        return -1;
    }
}
