namespace EdgeStream.Storage.Tests;

/// <summary>disk.full.policy: block refuses appends once --max-disk is full; drop-oldest deletes old closed segments to make room.</summary>
public sealed class DiskFullPolicyTests : IDisposable
{
    // 1 KiB segments and ~290-byte batches: three batches per segment, so segments close quickly.
    private static readonly TopicConfig Small = new() { SegmentBytes = 1024, RetentionBytes = -1, RetentionAge = null };
    private static readonly TopicConfig DropOldest = Small with { DiskFullPolicy = DiskFullPolicy.DropOldest };

    private readonly TempDirectory _dir = new();

    private LogManager Open(long maxDisk)
    {
        var log = new LogManager(new StorageOptions { LogDirectory = _dir.Path, MaxDiskBytes = maxDisk, DefaultTopicConfig = Small });
        log.Open();
        return log;
    }

    public void Dispose() => _dir.Dispose();

    private static byte[] Batch(string text, long timestamp = 1_700_000_000_000) => Batches.Of(1, text, timestamp, valueSize: 200);

    private static long SizeOfAll(LogManager log)
    {
        long total = 0;
        foreach (var t in log.Topics)
            foreach (var p in t.Partitions) total += p.SizeBytes;
        return total;
    }

    [Fact]
    public async Task AppendAsync_BlockTopicBudgetFull_ThrowsDiskFullWithBudgetInMessageAndKeepsData()
    {
        await using var log = Open(maxDisk: 6000);
        var p = log.CreateTopic("t", 1, Small with { DiskFullPolicy = DiskFullPolicy.Block })[0];
        var accepted = 0;
        DiskFullException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try { await p.AppendAsync(Batch($"b{i}")); accepted++; }
            catch (DiskFullException ex) { refused = ex; }
        }
        Assert.NotNull(refused);
        Assert.Contains("disk budget of 6000 bytes", refused!.Message);
        Assert.Contains("is full", refused.Message);
        Assert.True(accepted > 10, $"only {accepted} appends fit");
        Assert.True(p.SegmentCount > 2);
        // block: nothing was deleted to make room.
        Assert.Equal(0, p.LogStartOffset);
        Assert.Equal(default, log.Dropped);
        var records = Batches.ReadAll(p);
        Assert.Equal(accepted, records.Count);
        for (var i = 0; i < accepted; i++) Assert.StartsWith($"b{i}-0.", Batches.Text(records[i].Value));
        Assert.True(log.UsedBytes <= 6000);
    }

    [Fact]
    public async Task AppendAsync_BudgetFull_DropsLowestPriorityOldestClosedSegmentsFirstAndNeverBlockTopics()
    {
        await using var log = Open(maxDisk: 10_000);
        var low = log.CreateTopic("low", 1, DropOldest with { DropPriority = 0 })[0];
        var high = log.CreateTopic("high", 1, DropOldest with { DropPriority = 5 })[0];
        var keep = log.CreateTopic("keep", 1)[0];
        for (var i = 0; i < 9; i++)
        {
            await low.AppendAsync(Batch($"low{i}"));
            await high.AppendAsync(Batch($"high{i}"));
            await keep.AppendAsync(Batch($"keep{i}"));
        }
        Assert.Equal(3, low.SegmentCount);
        Assert.Equal(3, high.SegmentCount);
        var lowBytesBefore = low.SizeBytes;
        var highBytesBefore = high.SizeBytes;

        // Fill the budget with block-topic data: the room must come from low first, then high.
        var keptAppends = 9;
        DiskFullException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            var lowClosedBefore = low.SegmentCount - 1;
            try
            {
                await keep.AppendAsync(Batch($"keep{9 + i}"));
                keptAppends++;
            }
            catch (DiskFullException ex) { refused = ex; }
            Assert.True(log.UsedBytes <= 10_000, $"used {log.UsedBytes}");
            if (lowClosedBefore > 0)
                Assert.Equal(0, log.GetTopic("high").Dropped.Segments); // high is untouched while low has a closed segment
        }

        // Eventually nothing is droppable: only active segments are left in the drop-oldest topics.
        Assert.NotNull(refused);
        Assert.Contains("disk budget of 10000 bytes", refused!.Message);
        Assert.Contains("drop-oldest", refused.Message);
        Assert.Equal(1, low.SegmentCount);
        Assert.Equal(1, high.SegmentCount);

        var lowDropped = log.GetTopic("low").Dropped;
        var highDropped = log.GetTopic("high").Dropped;
        Assert.Equal(new DropCounters(2, 6, lowBytesBefore - low.SizeBytes), lowDropped);
        Assert.Equal(new DropCounters(2, 6, highBytesBefore - high.SizeBytes), highDropped);
        Assert.Equal(6, low.LogStartOffset);
        Assert.Equal(6, high.LogStartOffset);
        Assert.Equal(new DropCounters(4, 12, lowDropped.Bytes + highDropped.Bytes), log.Dropped);
        Assert.Equal(default, log.GetTopic("keep").Dropped);

        // The block topic kept every acknowledged record; the drop-oldest topics kept their newest.
        Assert.Equal(0, keep.LogStartOffset);
        Assert.Equal(keptAppends, Batches.ReadAll(keep).Count);
        Assert.Equal(["low6-0", "low7-0", "low8-0"], Batches.ReadAll(low).Select(r => Batches.Text(r.Value)[..6]));
        Assert.Equal(SizeOfAll(log), log.UsedBytes);
    }

    [Fact]
    public async Task AppendAsync_SamePriority_DropsTheSegmentWithTheOldestRecordsFirst()
    {
        await using var log = Open(maxDisk: 6000);
        var newer = log.CreateTopic("newer", 1, DropOldest)[0];
        var older = log.CreateTopic("older", 1, DropOldest)[0];
        // "newer" is written first, but its records carry later timestamps.
        for (var i = 0; i < 6; i++) await newer.AppendAsync(Batch($"n{i}", timestamp: 1_700_000_900_000 + i));
        for (var i = 0; i < 6; i++) await older.AppendAsync(Batch($"o{i}", timestamp: 1_700_000_000_000 + i));
        var block = log.CreateTopic("block", 1)[0];

        for (var i = 0; i < 100 && log.Dropped.Segments == 0; i++) await block.AppendAsync(Batch($"b{i}"));

        Assert.Equal(1, log.GetTopic("older").Dropped.Segments);
        Assert.Equal(0, log.GetTopic("newer").Dropped.Segments);
        Assert.Equal(3, older.LogStartOffset);
        Assert.Equal(0, newer.LogStartOffset);
    }

    [Fact]
    public async Task AppendAsync_AfterDrop_SucceedsAndReadsOfDroppedOffsetsAreOutOfRange()
    {
        await using var log = Open(maxDisk: 5000);
        var p = log.CreateTopic("d", 1, DropOldest)[0];
        long acked = 0;
        for (var i = 0; i < 60; i++)
        {
            var r = await p.AppendAsync(Batch($"d{i}")); // never refused: its own old segments make room
            acked = r.LastOffset + 1;
        }
        Assert.Equal(60, acked);
        Assert.True(p.LogStartOffset > 0);
        var dropped = log.GetTopic("d").Dropped;
        // One partition that started at 0: the log start offset is exactly the records dropped.
        Assert.Equal(p.LogStartOffset, dropped.Records);
        Assert.True(dropped.Segments > 0);
        Assert.True(log.UsedBytes <= 5000);
        Assert.Equal(p.HighWatermark - p.LogStartOffset, Batches.ReadAll(p).Count);

        // A reader still positioned in a dropped segment is told to move, as after retention.
        Assert.Throws<OffsetOutOfRangeException>(() => p.Read(0, 1024));
        using var read = p.Read(p.LogStartOffset, 1024);
        Assert.False(read.IsEmpty);
        Assert.Equal(p.LogStartOffset, read.LogStartOffset);
    }

    [Fact]
    public async Task AppendAsync_DropOldestTopicWithOnlyActiveSegment_IsRefused()
    {
        await using var log = Open(maxDisk: 5000);
        // One big segment: nothing is closed, so nothing can be dropped.
        var p = log.CreateTopic("d", 1, DropOldest with { SegmentBytes = 1024 * 1024 })[0];
        var accepted = 0;
        DiskFullException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try { await p.AppendAsync(Batch($"d{i}")); accepted++; }
            catch (DiskFullException ex) { refused = ex; }
        }
        Assert.NotNull(refused);
        Assert.Contains("disk budget of 5000 bytes", refused!.Message);
        Assert.Equal(default, log.Dropped);
        Assert.Equal(accepted, Batches.ReadAll(p).Count);
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppendersUnderFullBudget_NeverOverBudgetAndLoseNoBlockData()
    {
        const long max = 20_000;
        await using (var log = Open(max))
        {
            var drop = log.CreateTopic("drop", 2, DropOldest);
            var block = log.CreateTopic("block", 1)[0];
            var blockAcked = 0;
            var blockDone = 0;

            var droppers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 150; i++)
                {
                    try { await drop[i % 2].AppendAsync(Batch($"w{w}-{i}")); }
                    catch (DiskFullException) { } // possible once block data holds the whole budget
                }
            }));
            var blockers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 500 && Volatile.Read(ref blockDone) == 0; i++)
                {
                    try
                    {
                        await block.AppendAsync(Batch($"b{w}-{i}"));
                        Interlocked.Increment(ref blockAcked);
                    }
                    catch (DiskFullException) { Volatile.Write(ref blockDone, 1); }
                }
            }));
            // A deadlock between reservation and deletion would hang here.
            await Task.WhenAll(droppers.Concat(blockers)).WaitAsync(TimeSpan.FromMinutes(2));

            Assert.True(log.UsedBytes <= max, $"used {log.UsedBytes} of {max}");
            Assert.Equal(SizeOfAll(log), log.UsedBytes);
            Assert.Equal(0, block.LogStartOffset);
            Assert.Equal(blockAcked, Batches.ReadAll(block).Count);
            var dropped = log.GetTopic("drop").Dropped;
            Assert.True(dropped.Segments > 0);
            Assert.Equal(drop[0].LogStartOffset + drop[1].LogStartOffset, dropped.Records);
            foreach (var p in drop.Partitions)
                Assert.Equal(p.HighWatermark - p.LogStartOffset, Batches.ReadAll(p).Count);
        }

        // The budget matches the files: reopening counts the same bytes.
        await using var reopened = Open(max);
        Assert.Equal(SizeOfAll(reopened), reopened.UsedBytes);
        Assert.True(reopened.UsedBytes <= max);
    }
}
