using System.Globalization;
using EdgeStream.Records;
using EdgeStream.Storage.Segments;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Storage;

/// <summary>One problem fsck found in one file.</summary>
public sealed record SegmentIssue(string File, string Problem, bool Repaired);

/// <summary>fsck's verdict on one partition.</summary>
public sealed record PartitionCheck(string Topic, int Partition, int Segments, long Batches, long Bytes, long FirstOffset, long LastOffset, IReadOnlyList<SegmentIssue> Issues)
{
    public bool Healthy => Issues.Count == 0;
    public bool Repaired => Issues.Count > 0 && Issues.All(i => i.Repaired);
}

/// <summary>What <see cref="LogChecker.Check"/> found in a whole log directory.</summary>
public sealed class FsckReport
{
    public FsckReport(IReadOnlyList<PartitionCheck> partitions, bool repairRequested)
    {
        Partitions = partitions;
        RepairRequested = repairRequested;
    }

    public IReadOnlyList<PartitionCheck> Partitions { get; }
    public bool RepairRequested { get; }
    /// <summary>No damage at all.</summary>
    public bool Healthy => Partitions.All(p => p.Healthy);
    /// <summary>Healthy, or every problem found was repaired.</summary>
    public bool Usable => Partitions.All(p => p.Healthy || p.Repaired);

    public void WriteTo(TextWriter writer)
    {
        foreach (var p in Partitions)
        {
            var state = p.Healthy ? "ok" : p.Repaired ? "repaired" : "DAMAGED";
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Topic}/{p.Partition}: {state}, {p.Segments} segments, {p.Batches} valid batches, {p.Bytes} bytes, offsets {p.FirstOffset}..{p.LastOffset}"));
            foreach (var issue in p.Issues)
                writer.WriteLine($"  {Path.GetFileName(issue.File)}: {issue.Problem}{(issue.Repaired ? " [repaired]" : "")}");
        }
        var damaged = Partitions.Count(p => !p.Healthy);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Partitions.Count} partitions checked, {damaged} with problems{(RepairRequested ? ", repair requested" : damaged > 0 ? "; run with --repair to salvage the valid batches" : "")}"));
    }
}

/// <summary>
/// fsck for the log: verifies every batch of every segment (length, magic, CRC-32C, offsets
/// moving forward) and every index, and with repair salvages every valid batch — a corrupt batch
/// in the middle is skipped and the valid ones after it are kept with their own offsets — and
/// rebuilds damaged indexes. Runs against a stopped node: it takes the log directory's lock.
/// </summary>
public static class LogChecker
{
    public static FsckReport Check(string logDirectory, bool repair, ILogger? logger = null)
    {
        var results = new List<PartitionCheck>();
        if (!Directory.Exists(logDirectory)) return new FsckReport(results, repair);
        using var dirLock = TakeLock(logDirectory);
        foreach (var topicDir in Directory.EnumerateDirectories(logDirectory).Order(StringComparer.Ordinal))
        {
            var topic = Path.GetFileName(topicDir);
            if (!LogManager.IsValidTopicName(topic)) continue;
            foreach (var partitionDir in Directory.EnumerateDirectories(topicDir))
            {
                if (!int.TryParse(Path.GetFileName(partitionDir), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)) continue;
                results.Add(CheckPartition(topic, partition, partitionDir, repair, logger));
            }
        }
        results.Sort((a, b) => a.Topic != b.Topic ? string.CompareOrdinal(a.Topic, b.Topic) : a.Partition.CompareTo(b.Partition));
        return new FsckReport(results, repair);
    }

    private static FileStream TakeLock(string logDirectory)
    {
        try
        {
            return new FileStream(Path.Combine(logDirectory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new StorageException($"The log directory {logDirectory} is in use by a running EdgeStream process; stop it before fsck ({ex.Message}).", ex);
        }
    }

    private static PartitionCheck CheckPartition(string topic, int partition, string directory, bool repair, ILogger? logger)
    {
        var issues = new List<SegmentIssue>();
        var bases = new List<long>();
        foreach (var file in Directory.EnumerateFiles(directory, "*" + LogSegment.LogSuffix))
            if (LogSegment.TryParseBaseOffset(file, out var b)) bases.Add(b);
        bases.Sort();

        long nextMin = 0, batches = 0, bytes = 0, first = -1, last = -1;
        foreach (var baseOffset in bases)
        {
            var path = LogSegment.FilePath(directory, baseOffset, LogSegment.LogSuffix);
            var minOffset = Math.Max(baseOffset, nextMin);
            var result = SegmentRecovery.Check(path, minOffset, repair, out var scan);
            foreach (var d in result.Damage)
            {
                var what = d.IsTail ? "torn or corrupt tail" : "corrupt data";
                issues.Add(new SegmentIssue(path, string.Create(CultureInfo.InvariantCulture,
                    $"{what} at byte {d.Position}, {d.Length} bytes ({d.Reason}){(repair ? (d.IsTail ? ", cut" : ", skipped; later batches kept") : "")}"), repair));
                if (logger is not null)
                    StorageLog.SegmentDamaged(logger, topic, partition, Path.GetFileName(path), d.Position, d.Length, d.Reason.ToString(), d.IsTail, repair ? "repaired" : "reported");
            }
            if (!result.Changed) CheckIndexes(directory, baseOffset, path, repair, issues);
            else if (repair) RebuildIndexes(directory, baseOffset);

            batches += scan.ValidBatches;
            bytes += scan.ValidBytes;
            if (scan.FirstOffset >= 0 && first < 0) first = scan.FirstOffset;
            if (scan.LastOffset >= 0)
            {
                last = scan.LastOffset;
                nextMin = scan.LastOffset + 1;
            }
        }
        return new PartitionCheck(topic, partition, bases.Count, batches, bytes, first, last, issues);
    }

    // Every offset-index entry must point at the start of a valid batch with that base offset.
    private static void CheckIndexes(string directory, long baseOffset, string logPath, bool repair, List<SegmentIssue> issues)
    {
        var indexPath = LogSegment.FilePath(directory, baseOffset, LogSegment.IndexSuffix);
        var timePath = LogSegment.FilePath(directory, baseOffset, LogSegment.TimeIndexSuffix);
        var size = (int)Math.Min(new FileInfo(logPath).Length, int.MaxValue);
        string? problem = null;
        using (var index = SparseIndex.TryLoad(indexPath, baseOffset, size))
        using (var timeIndex = SparseIndex.TryLoad(timePath, long.MinValue, int.MaxValue))
        {
            if (!File.Exists(indexPath)) problem = "offset index missing";
            else if (index is null) problem = "offset index damaged";
            else if (!File.Exists(timePath)) problem = "time index missing";
            else if (timeIndex is null) problem = "time index damaged";
            else if (!IndexEntriesPointAtBatches(logPath, indexPath, index)) problem = "offset index points outside batch boundaries";
        }
        if (problem is null) return;
        if (repair) RebuildIndexes(directory, baseOffset);
        issues.Add(new SegmentIssue(indexPath, problem + (repair ? ", rebuilt" : ""), repair));
    }

    private static bool IndexEntriesPointAtBatches(string logPath, string indexPath, SparseIndex index)
    {
        if (index.Count == 0) return true;
        using var map = new MappedFile(logPath);
        var data = map.Span;
        var entries = File.ReadAllBytes(indexPath);
        for (var i = 0; i < index.Count; i++)
        {
            var offset = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(entries.AsSpan(i * SparseIndex.EntrySize));
            var position = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(entries.AsSpan(i * SparseIndex.EntrySize + 8));
            if (BatchScanner.Check(data, position, 0, out RecordBatchHeader h) != BatchValidation.Valid || h.BaseOffset != offset)
                return false;
        }
        return true;
    }

    private static void RebuildIndexes(string directory, long baseOffset)
    {
        File.Delete(LogSegment.FilePath(directory, baseOffset, LogSegment.IndexSuffix));
        File.Delete(LogSegment.FilePath(directory, baseOffset, LogSegment.TimeIndexSuffix));
        using var segment = LogSegment.Open(directory, baseOffset, TopicConfig.Default.IndexIntervalBytes, out _);
    }
}
