using EdgeStream.Records;

namespace EdgeStream.Storage.Tests;

public sealed class PartitionLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private LogManager Open(FsyncPolicy policy = FsyncPolicy.Group, TopicConfig? config = null, long maxDisk = 0)
    {
        var log = new LogManager(new StorageOptions
        {
            LogDirectory = _dir.Path,
            FsyncPolicy = policy,
            MaxDiskBytes = maxDisk,
            DefaultTopicConfig = config ?? TopicConfig.Default,
        });
        log.Open();
        return log;
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Group)]
    [InlineData(FsyncPolicy.Os)]
    public async Task AppendAsync_EachPolicy_AssignsConsecutiveOffsetsAndAcknowledgedDataIsReadable(FsyncPolicy policy)
    {
        await using var log = Open(policy);
        var p = log.CreateTopic("t", 1)[0];
        var a = await p.AppendAsync(Batches.Of(3, "a"));
        var b = await p.AppendAsync(Batches.Of(2, "b"));
        Assert.Equal((0L, 2L), (a.BaseOffset, a.LastOffset));
        Assert.Equal((3L, 4L), (b.BaseOffset, b.LastOffset));
        Assert.Equal(5, p.HighWatermark);
        var records = Batches.ReadAll(p);
        Assert.Equal(["a-0", "a-1", "a-2", "b-0", "b-1"], records.Select(r => Batches.Text(r.Value)));
        Assert.Equal([0L, 1, 2, 3, 4], records.Select(r => r.Offset));
    }

    [Fact]
    public async Task DurableOffset_UnderFsyncOs_TrailsTheHighWatermarkUntilAFlush()
    {
        await using var log = Open(FsyncPolicy.Os);
        var p = log.CreateTopic("t", 1)[0];
        await p.AppendAsync(Batches.Of(3, "a"));
        // Acknowledged and readable, but only in the page cache: not yet durable.
        Assert.Equal(3, p.HighWatermark);
        Assert.Equal(0, p.DurableOffset);
        var waiting = p.WhenDurableAbove(0);
        Assert.False(waiting.IsCompleted);

        p.Flush();
        Assert.Equal(3, p.DurableOffset);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(p.WhenDurableAbove(2).IsCompleted);
        Assert.False(p.WhenDurableAbove(3).IsCompleted);
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Group)]
    public async Task DurableOffset_WhenEveryAckIsFsynced_IsTheHighWatermark(FsyncPolicy policy)
    {
        await using var log = Open(policy);
        var p = log.CreateTopic("t", 1)[0];
        await p.AppendAsync(Batches.Of(3, "a"));
        Assert.Equal(3, p.DurableOffset);
        Assert.True(p.WhenDurableAbove(2).IsCompleted);
    }

    [Fact]
    public async Task Read_OffsetInsideBatch_ReturnsTheWholeBatchHoldingIt()
    {
        await using var log = Open();
        var p = log.CreateTopic("t", 1)[0];
        await p.AppendAsync(Batches.Of(3, "a"));
        await p.AppendAsync(Batches.Of(3, "b"));
        using var read = p.Read(4, 1);
        RecordBatchHeader.TryRead(read.Memory.Span, out var h);
        Assert.Equal(3, h.BaseOffset);
        Assert.Equal(h.TotalSize, read.Length); // one whole batch even though maxBytes is 1
    }

    [Fact]
    public async Task Read_AtHighWatermark_IsEmptyAndBeyondIsOutOfRange()
    {
        await using var log = Open();
        var p = log.CreateTopic("t", 1)[0];
        await p.AppendAsync(Batches.Of(2));
        using (var read = p.Read(2, 1024)) Assert.True(read.IsEmpty);
        Assert.Throws<OffsetOutOfRangeException>(() => p.Read(3, 1024));
        Assert.Throws<OffsetOutOfRangeException>(() => p.Read(-1, 1024));
    }

    [Fact]
    public async Task AppendAsync_ConcurrentAppendersWithAlways_GetDisjointContiguousRanges()
    {
        await using var log = Open(FsyncPolicy.Always);
        var p = log.CreateTopic("t", 1)[0];
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () => await p.AppendAsync(Batches.Of(1 + i % 4, $"w{i}")))));
        var ranges = results.OrderBy(r => r.BaseOffset).ToList();
        long expected = 0;
        foreach (var r in ranges)
        {
            Assert.Equal(expected, r.BaseOffset);
            expected = r.LastOffset + 1;
        }
        Assert.Equal(expected, p.HighWatermark);
        Assert.Equal(expected, Batches.ReadAll(p).Count);
    }

    [Fact]
    public async Task AppendAsync_PastSegmentBytes_RollsAndReadsAcrossSegments()
    {
        await using var log = Open(config: new TopicConfig { SegmentBytes = 4096 });
        var p = log.CreateTopic("t", 1)[0];
        for (var i = 0; i < 50; i++) await p.AppendAsync(Batches.Of(2, $"b{i}", valueSize: 200));
        Assert.True(p.SegmentCount > 5, $"expected several segments, got {p.SegmentCount}");
        var records = Batches.ReadAll(p);
        Assert.Equal(100, records.Count);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), records.Select(r => r.Offset));
        using var mid = p.Read(77, 1);
        RecordBatchHeader.TryRead(mid.Memory.Span, out var h);
        Assert.Equal(76, h.BaseOffset);
    }

    [Fact]
    public async Task FindOffsetByTimestamp_ReturnsFirstRecordAtOrAfter()
    {
        await using var log = Open(config: new TopicConfig { SegmentBytes = 4096, IndexIntervalBytes = 256 });
        var p = log.CreateTopic("t", 1)[0];
        for (var i = 0; i < 40; i++) await p.AppendAsync(Batches.Of(5, $"b{i}", timestamp: 1000 + i * 10, valueSize: 100));
        // batch i holds records with timestamps 1000+10i .. 1000+10i+4, offsets 5i..5i+4
        Assert.Equal(0, p.FindOffsetByTimestamp(0));
        Assert.Equal(5 * 17 + 3, p.FindOffsetByTimestamp(1000 + 170 + 3));
        Assert.Equal(5 * 18, p.FindOffsetByTimestamp(1000 + 175)); // falls between batches
        Assert.Null(p.FindOffsetByTimestamp(10_000));
    }

    [Fact]
    public async Task Reopen_AfterDispose_KeepsDataAndContinuesOffsets()
    {
        await using (var log = Open(config: new TopicConfig { SegmentBytes = 4096 }))
        {
            var p = log.CreateTopic("t", 2)[1];
            for (var i = 0; i < 30; i++) await p.AppendAsync(Batches.Of(3, $"b{i}", valueSize: 100));
        }
        await using (var log = Open(config: new TopicConfig { SegmentBytes = 4096 }))
        {
            var topic = log.GetTopic("t");
            Assert.Equal(2, topic.PartitionCount);
            var p = topic[1];
            Assert.Equal(90, p.HighWatermark);
            var next = await p.AppendAsync(Batches.Of(1, "after"));
            Assert.Equal(90, next.BaseOffset);
            Assert.Equal(91, Batches.ReadAll(p).Count);
        }
    }

    [Fact]
    public async Task Open_IndexFilesDeletedOrGarbled_RebuildsThemAndReadsStayCorrect()
    {
        await using (var log = Open(config: new TopicConfig { SegmentBytes = 8192, IndexIntervalBytes = 300 }))
        {
            var p = log.CreateTopic("t", 1)[0];
            for (var i = 0; i < 60; i++) await p.AppendAsync(Batches.Of(2, $"b{i}", valueSize: 150));
        }
        var dir = Path.Combine(_dir.Path, "t", "0");
        var indexes = Directory.GetFiles(dir, "*.index").Order().ToArray();
        File.Delete(indexes[0]);
        // A "sane-looking" but wrong index: monotonic entries pointing into the middle of batches.
        var wrong = new byte[24];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(wrong, long.Parse(Path.GetFileNameWithoutExtension(indexes[1])));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(wrong.AsSpan(8), 7);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(wrong.AsSpan(12), long.Parse(Path.GetFileNameWithoutExtension(indexes[1])) + 3);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(wrong.AsSpan(20), 13);
        File.WriteAllBytes(indexes[1], wrong);

        await using var reopened = Open(config: new TopicConfig { SegmentBytes = 8192, IndexIntervalBytes = 300 });
        var partition = reopened.GetPartition("t", 0);
        Assert.True(File.Exists(indexes[0]));
        var records = Batches.ReadAll(partition);
        Assert.Equal(120, records.Count);
        for (long o = 0; o < 120; o += 7)
        {
            using var read = partition.Read(o, 1);
            RecordBatchHeader.TryRead(read.Memory.Span, out var h);
            Assert.InRange(o, h.BaseOffset, h.LastOffset);
        }
    }

    [Fact]
    public async Task EnforceRetention_ByBytes_DeletesOldestClosedSegmentsOnly()
    {
        await using var log = Open(config: new TopicConfig { SegmentBytes = 4096, RetentionBytes = 10_000, RetentionAge = null });
        var p = log.CreateTopic("t", 1)[0];
        for (var i = 0; i < 60; i++) await p.AppendAsync(Batches.Of(2, $"b{i}", valueSize: 200));
        var before = p.SizeBytes;
        var result = log.EnforceRetention(DateTimeOffset.UtcNow);
        Assert.True(result.SegmentsDeleted > 0);
        Assert.Equal(before - result.BytesFreed, p.SizeBytes);
        Assert.True(p.SizeBytes - 4096 < 10_000, $"size {p.SizeBytes} should be within one segment of retention.bytes");
        Assert.True(p.LogStartOffset > 0);
        Assert.Throws<OffsetOutOfRangeException>(() => p.Read(0, 100));
        var records = Batches.ReadAll(p);
        Assert.Equal(120 - p.LogStartOffset, records.Count);
        Assert.Equal(119, records[^1].Offset);
    }

    [Fact]
    public async Task EnforceRetention_ByAge_DeletesSegmentsWhoseNewestRecordIsOlder()
    {
        await using var log = Open(config: new TopicConfig { SegmentBytes = 4096, RetentionAge = TimeSpan.FromHours(1) });
        var p = log.CreateTopic("t", 1)[0];
        var now = DateTimeOffset.UtcNow;
        var old = now.AddHours(-5).ToUnixTimeMilliseconds();
        for (var i = 0; i < 30; i++) await p.AppendAsync(Batches.Of(2, $"old{i}", timestamp: old, valueSize: 200));
        for (var i = 0; i < 30; i++) await p.AppendAsync(Batches.Of(2, $"new{i}", timestamp: now.ToUnixTimeMilliseconds(), valueSize: 200));
        var result = log.EnforceRetention(now);
        Assert.True(result.SegmentsDeleted > 0);
        var records = Batches.ReadAll(p);
        Assert.All(records.Where(r => r.Offset >= 60), r => Assert.StartsWith("new", Batches.Text(r.Value)));
        Assert.DoesNotContain(records, r => Batches.Text(r.Value).StartsWith("old") && r.Offset < p.LogStartOffset);
        Assert.True(records.Count(r => Batches.Text(r.Value).StartsWith("old")) < 60);
        Assert.Equal(60, records.Count(r => Batches.Text(r.Value).StartsWith("new")));
    }

    [Fact]
    public async Task AppendAsync_DiskBudgetFull_RefusesWithClearErrorAndKeepsEarlierData()
    {
        await using var log = Open(maxDisk: 20_000, config: new TopicConfig { SegmentBytes = 4096, RetentionBytes = -1, RetentionAge = null });
        var p = log.CreateTopic("t", 1)[0];
        var accepted = 0;
        DiskFullException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try { await p.AppendAsync(Batches.Of(1, $"b{i}", valueSize: 500)); accepted++; }
            catch (DiskFullException ex) { refused = ex; }
        }
        Assert.NotNull(refused);
        Assert.Contains("disk budget", refused!.Message);
        Assert.True(log.UsedBytes <= 20_000);
        Assert.Equal(accepted, Batches.ReadAll(p).Count);
        // Space comes back when data is deleted: the writer can go on.
        p.DeleteRecordsBefore(p.HighWatermark - 1);
        await p.AppendAsync(Batches.Of(1, "after", valueSize: 500));
        Assert.StartsWith("after-0", Batches.Text(Batches.ReadAll(p)[^1].Value));
    }

    [Fact]
    public async Task AppendAsync_CorruptOrOversizedBatch_IsRefusedAndNothingIsWritten()
    {
        await using var log = Open(config: new TopicConfig { MaxMessageBytes = 1000 });
        var p = log.CreateTopic("t", 1)[0];
        var bad = Batches.Of(2);
        bad[^1] ^= 0xFF;
        var ex = await Assert.ThrowsAsync<InvalidBatchException>(async () => await p.AppendAsync(bad));
        Assert.Equal(BatchValidation.CrcMismatch, ex.Reason);
        await Assert.ThrowsAsync<MessageTooLargeException>(async () => await p.AppendAsync(Batches.Of(1, valueSize: 2000)));
        await Assert.ThrowsAsync<InvalidBatchException>(async () => await p.AppendAsync(Batches.Of(1).AsMemory(0, 40)));
        Assert.Equal(0, p.LogEndOffset);
        Assert.Equal(0, p.SizeBytes);
    }

    [Fact]
    public async Task AppendAsync_LogAppendTimeTopic_StampsBrokerTimeAndKeepsCrcValid()
    {
        await using var log = Open();
        var p = log.CreateTopic("t", 1, new TopicConfig { UseLogAppendTime = true })[0];
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var result = await p.AppendAsync(Batches.Of(2, timestamp: 5));
        Assert.InRange(result.LogAppendTime, before, before + 60_000);
        var records = Batches.ReadAll(p);
        Assert.All(records, r => Assert.Equal(result.LogAppendTime, r.Timestamp));
    }

    [Fact]
    public async Task Open_SecondManagerOnSameDirectory_IsRefused()
    {
        await using var first = Open();
        var second = new LogManager(new StorageOptions { LogDirectory = _dir.Path });
        var ex = Assert.Throws<StorageException>(() => second.Open());
        Assert.Contains("in use", ex.Message);
    }

    [Fact]
    public async Task DeleteTopic_RemovesFilesAndReleasesBudget()
    {
        await using var log = Open();
        var p = log.CreateTopic("gone", 2)[0];
        await p.AppendAsync(Batches.Of(10, valueSize: 100));
        Assert.True(log.UsedBytes > 0);
        Assert.True(log.DeleteTopic("gone"));
        Assert.Equal(0, log.UsedBytes);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "gone")));
        Assert.False(log.TryGetTopic("gone", out _));
        log.CreateTopic("gone", 1);
    }

    [Fact]
    public async Task CreateTopic_BadNameOrDuplicate_Throws()
    {
        await using var log = Open();
        Assert.Throws<ConfigurationException>(() => log.CreateTopic("a/b", 1));
        Assert.Throws<ConfigurationException>(() => log.CreateTopic("..", 1));
        Assert.Throws<ConfigurationException>(() => log.CreateTopic("ok", 0));
        log.CreateTopic("ok", 1);
        Assert.Throws<TopicAlreadyExistsException>(() => log.CreateTopic("ok", 1));
    }

    [Fact]
    public async Task AddPartitions_GrowsTopicAndNewPartitionsAcceptAppends()
    {
        await using var log = Open();
        log.CreateTopic("t", 1);
        log.AddPartitions("t", 3);
        var r = await log.GetPartition("t", 2).AppendAsync(Batches.Of(1));
        Assert.Equal(0, r.BaseOffset);
        Assert.Throws<ConfigurationException>(() => log.AddPartitions("t", 2));
    }
}
