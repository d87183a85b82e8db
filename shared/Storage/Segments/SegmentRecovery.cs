using EdgeStream.Storage.Durability;

namespace EdgeStream.Storage.Segments;

/// <summary>What recovery or repair did to one segment.</summary>
public sealed record SegmentRepair(string Path, IReadOnlyList<DamagedRegion> Damage, long BytesBefore, long BytesAfter, int ValidBatches)
{
    public bool Changed => Damage.Count > 0;
}

/// <summary>
/// Scans a segment file batch by batch and, when asked, repairs it in place: a torn tail is cut
/// (truncate), damage in the middle is skipped by rewriting the valid batches to a temporary file
/// that atomically replaces the segment. Offsets never change: valid batches keep their own, so a
/// skipped batch leaves a gap in the offsets, never a shift. Indexes are deleted so they are rebuilt.
/// </summary>
internal static class SegmentRecovery
{
    public const string RepairSuffix = ".repair";

    public static SegmentRepair Check(string logPath, long minBaseOffset, bool repair, out SegmentScan scan)
    {
        long before;
        using (var map = new MappedFile(logPath))
        {
            before = map.Length;
            scan = BatchScanner.Scan(map.Span, minBaseOffset);
            if (!repair || scan.Damage.Count == 0)
                return new SegmentRepair(logPath, scan.Damage, before, before, scan.ValidBatches);
            if (!scan.OnlyTailDamage)
                WriteValidRanges(map.Span, scan, logPath + RepairSuffix);
        }

        if (scan.OnlyTailDamage)
        {
            using var handle = File.OpenHandle(logPath, FileMode.Open, FileAccess.ReadWrite);
            RandomAccess.SetLength(handle, scan.Damage[0].Position);
            RandomAccess.FlushToDisk(handle);
        }
        else
        {
            File.Move(logPath + RepairSuffix, logPath, overwrite: true);
        }
        var directory = Path.GetDirectoryName(logPath)!;
        DirectorySync.Sync(directory);
        var baseName = Path.Combine(directory, Path.GetFileNameWithoutExtension(logPath));
        File.Delete(baseName + LogSegment.IndexSuffix);
        File.Delete(baseName + LogSegment.TimeIndexSuffix);
        return new SegmentRepair(logPath, scan.Damage, before, scan.ValidBytes, scan.ValidBatches);
    }

    private static void WriteValidRanges(ReadOnlySpan<byte> data, SegmentScan scan, string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        long position = 0;
        foreach (var (start, length) in scan.ValidRanges)
        {
            RandomAccess.Write(handle, data.Slice(start, length), position);
            position += length;
        }
        RandomAccess.FlushToDisk(handle);
    }
}
