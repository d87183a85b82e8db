using System.Buffers;
using EdgeStream.Records;
using EdgeStream.Metadata;
using EdgeStream.Storage;
using EdgeStream.TestSupport;
using EdgeStream.Uplink.Protocol;
using EdgeStream.Uplink.Receiving;

namespace EdgeStream.Uplink.Tests;

/// <summary>The range set, the batch writer and the de-duplicator over a real log in a temp directory.</summary>
public sealed class OriginDeduplicationTests
{
    [Fact]
    public void RangeSet_AddMergesOverlappingAndAdjacent_MissingListsGaps()
    {
        var set = new OriginRangeSet();
        set.Add(10, 19);
        set.Add(30, 39);
        set.Add(20, 25); // adjacent to 10..19
        Assert.Equal([new OffsetRange(10, 25), new OffsetRange(30, 39)], set.Ranges);
        Assert.True(set.Covers(12, 25));
        Assert.False(set.Covers(12, 26));
        Assert.True(set.Disjoint(26, 29));
        Assert.False(set.Disjoint(26, 30));

        var missing = new List<OffsetRange>();
        set.Missing(0, 50, missing);
        Assert.Equal([new OffsetRange(0, 9), new OffsetRange(26, 29), new OffsetRange(40, 50)], missing);

        set.Add(0, 100);
        Assert.Equal([new OffsetRange(0, 100)], set.Ranges);
        Assert.Equal(100, set.Last);
    }

    [Fact]
    public void RangeSet_Remove_SplitsAndRestores()
    {
        var set = new OriginRangeSet();
        set.Add(0, 99);
        set.Remove(40, 59);
        Assert.Equal([new OffsetRange(0, 39), new OffsetRange(60, 99)], set.Ranges);
        set.Remove(0, 39);
        Assert.Equal([new OffsetRange(60, 99)], set.Ranges);
        set.Remove(90, 200);
        Assert.Equal([new OffsetRange(60, 89)], set.Ranges);
    }

    [Fact]
    public void RangeSet_OverCap_MergesOldestGapsOnly()
    {
        var set = new OriginRangeSet(maxRanges: 4);
        for (var i = 0; i < 10; i++) set.Add(i * 10, i * 10 + 4);
        Assert.Equal(4, set.Count);
        // The newest three ranges are exact; the oldest absorbed everything before them.
        Assert.Equal([new OffsetRange(0, 64), new OffsetRange(70, 74), new OffsetRange(80, 84), new OffsetRange(90, 94)], set.Ranges);
    }

    [Fact]
    public void RangeSet_RandomOperations_MatchAPlainSet()
    {
        var random = new Random(5);
        var set = new OriginRangeSet(maxRanges: 100_000);
        var model = new HashSet<long>();
        for (var step = 0; step < 3000; step++)
        {
            var first = (long)random.Next(0, 500);
            var last = first + random.Next(0, 20);
            if (random.Next(4) == 0)
            {
                set.Remove(first, last);
                for (var o = first; o <= last; o++) model.Remove(o);
            }
            else
            {
                var missing = new List<OffsetRange>();
                set.Missing(first, last, missing);
                var expectedMissing = 0L;
                for (var o = first; o <= last; o++) if (!model.Contains(o)) expectedMissing++;
                Assert.Equal(expectedMissing, missing.Sum(m => m.Count));
                Assert.Equal(expectedMissing == 0, set.Covers(first, last));
                set.Add(first, last);
                for (var o = first; o <= last; o++) model.Add(o);
            }
            // Invariant: sorted, non-overlapping, non-adjacent, and exactly the model.
            for (var i = 1; i < set.Count; i++) Assert.True(set.Ranges[i - 1].Last + 1 < set.Ranges[i].First);
            Assert.Equal(model.Count, set.Ranges.Sum(r => r.Count));
        }
    }

    [Fact]
    public void BatchWriter_SplitsUnderMaxMessageBytes_HeadersEncodeOrigin()
    {
        var frame = Frames.Make("edge-1", "t", first: (1L << 40) + 3, count: 200, valueBytes: 1000);
        var output = new ArrayBufferWriter<byte>();
        UplinkBatchWriter.Write(frame, OriginStreamRegistry.FirstStreamId + 7, 0, 200, 64 * 1024, output);

        var expectedFirst = frame.FirstOriginOffset;
        var total = 0;
        var span = output.WrittenMemory;
        var batches = 0;
        while (!span.IsEmpty)
        {
            Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(span.Span[..RecordBatchHeader.PeekTotalSize(span.Span)], out var h));
            Assert.True(h.TotalSize <= 64 * 1024, $"batch of {h.TotalSize} bytes");
            Assert.Equal(OriginStreamRegistry.FirstStreamId + 7, h.ProducerId);
            Assert.Equal(expectedFirst, UplinkBatchWriter.FirstOriginOffset(h));
            var records = RecordBatchReader.ReadRecords(span[..h.TotalSize]);
            Assert.Equal(h.LastOffsetDelta + 1, records.Count);
            Assert.Equal((expectedFirst).ToString(), System.Text.Encoding.ASCII.GetString(records[0].Headers[^1].Value!.Value.Span));
            expectedFirst += records.Count;
            total += records.Count;
            batches++;
            span = span[h.TotalSize..];
        }
        Assert.Equal(200, total);
        Assert.True(batches > 1);
    }

    [Fact]
    public void BatchWriter_RecordLargerThanMaxMessageBytes_Throws()
    {
        // Random bytes do not compress: the record cannot fit in 1 KiB however it is batched.
        var random = new byte[5000];
        new Random(3).NextBytes(random);
        var incompressible = new UplinkFrame
        {
            OriginNode = "edge-1", OriginTopic = "t", OriginPartition = 0, OriginPartitionCount = 1, TargetTopic = "t", FirstOriginOffset = 0,
            Records = [new UplinkRecord(0, null, random, [])],
        };
        Assert.Throws<RecordTooLargeException>(() => UplinkBatchWriter.Write(incompressible, OriginStreamRegistry.FirstStreamId, 0, 1, 1024, new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task Deduplicator_StateRebuiltFromLogAfterReopen_AndRegistryIdsStable()
    {
        using var dir = new TempDirectory();
        long streamA, streamB;
        using (var meta = MetadataStore.Open(dir.Combine("meta.db")))
        {
            var registry = new OriginStreamRegistry(meta);
            streamA = registry.GetOrAllocate("edge-a", "t", 0);
            streamB = registry.GetOrAllocate("edge-b", "t", 0);
            Assert.Equal(streamA, registry.GetOrAllocate("edge-a", "t", 0));
            Assert.NotEqual(streamA, streamB);
            Assert.True(OriginStreamRegistry.IsStreamId(streamA) && OriginStreamRegistry.IsStreamId(streamB));

            await using var log = OpenLog(dir);
            var partition = log.CreateTopic("t", 1)[0];
            var dedup = new OriginDeduplicator();
            var first = dedup.Write(partition, 1024 * 1024, streamA, Frames.Make("edge-a", "t", 0, 100));
            await first.Durable;
            Assert.Equal(100, first.Written);
            await dedup.Write(partition, 1024 * 1024, streamA, Frames.Make("edge-a", "t", 200, 50)).Durable;
            await dedup.Write(partition, 1024 * 1024, streamB, Frames.Make("edge-b", "t", 0, 10)).Durable;
            Assert.True(dedup.Write(partition, 1024 * 1024, streamA, Frames.Make("edge-a", "t", 10, 20)).IsDuplicate);
        }

        using (var meta = MetadataStore.Open(dir.Combine("meta.db")))
        {
            var registry = new OriginStreamRegistry(meta);
            Assert.Equal(streamB, registry.GetOrAllocate("edge-b", "t", 0));
            Assert.Equal(streamA, registry.GetOrAllocate("edge-a", "t", 0));
            var streamC = registry.GetOrAllocate("edge-c", "t", 0);
            Assert.True(streamC > streamB);

            await using var log = OpenLog(dir);
            var partition = log.GetPartition("t", 0);
            var dedup = new OriginDeduplicator();
            Assert.True(dedup.Write(partition, 1024 * 1024, streamA, Frames.Make("edge-a", "t", 0, 100)).IsDuplicate);
            Assert.True(dedup.Write(partition, 1024 * 1024, streamB, Frames.Make("edge-b", "t", 0, 10)).IsDuplicate);
            // 90..259: 100..199 is the gap, 200..249 stored, 250..259 new.
            var partial = dedup.Write(partition, 1024 * 1024, streamA, Frames.Make("edge-a", "t", 90, 170));
            await partial.Durable;
            Assert.Equal(110, partial.Written);
            Assert.Equal(259, partial.OriginLastOffset);
            Assert.Equal(100 + 50 + 10 + 110, partition.HighWatermark);
        }
    }

    [Fact]
    public async Task Deduplicator_DiskFull_RangesRolledBackSoTheResendIsWritten()
    {
        using var dir = new TempDirectory();
        await using var log = new LogManager(new StorageOptions { LogDirectory = dir.Combine("log"), MaxDiskBytes = 64 * 1024 });
        log.Open();
        var partition = log.CreateTopic("t", 1)[0];
        var dedup = new OriginDeduplicator();
        var stream = OriginStreamRegistry.FirstStreamId;

        var random = new Random(1);
        UplinkFrame Big(long first)
        {
            var records = new UplinkRecord[10];
            for (var i = 0; i < records.Length; i++)
            {
                var value = new byte[10_000];
                random.NextBytes(value);
                records[i] = new UplinkRecord(0, null, value, []);
            }
            return new UplinkFrame { OriginNode = "e", OriginTopic = "t", OriginPartition = 0, OriginPartitionCount = 1, TargetTopic = "t", FirstOriginOffset = first, Records = records };
        }

        var full = dedup.Write(partition, 1024 * 1024, stream, Big(0));
        await Assert.ThrowsAsync<DiskFullException>(() => full.Durable);
        // Nothing was stored, so a small re-send of the same offsets is new data, not a duplicate.
        var small = dedup.Write(partition, 1024 * 1024, stream, Frames.Make("e", "t", 0, 5));
        await small.Durable;
        Assert.Equal(5, small.Written);
    }

    private static LogManager OpenLog(TempDirectory dir)
    {
        var log = new LogManager(new StorageOptions { LogDirectory = dir.Combine("log"), FsyncPolicy = FsyncPolicy.Always });
        log.Open();
        return log;
    }
}
