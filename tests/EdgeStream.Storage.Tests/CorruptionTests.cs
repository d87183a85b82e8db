using EdgeStream.Records;

namespace EdgeStream.Storage.Tests;

/// <summary>
/// Damage on disk: a torn tail, flipped bytes in the middle, a deleted index. Start-up recovers
/// without refusing to start, fsck reports, and --repair salvages exactly the valid batches.
/// </summary>
public sealed class CorruptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string PartitionDir => Path.Combine(_dir.Path, "t", "0");

    public void Dispose() => _dir.Dispose();

    private LogManager NewLog(long segmentBytes = 1L << 20) =>
        new(new StorageOptions { LogDirectory = _dir.Path, DefaultTopicConfig = new TopicConfig { SegmentBytes = segmentBytes } });

    // Writes `batches` batches of 3 records each; returns each batch's (position in its segment file, size).
    private async Task<List<(string File, long Position, int Size, long BaseOffset)>> WriteAsync(int batches, long segmentBytes = 1L << 20)
    {
        var layout = new List<(string, long, int, long)>();
        await using var log = NewLog(segmentBytes);
        log.Open();
        var p = log.CreateTopic("t", 1)[0];
        for (var i = 0; i < batches; i++)
        {
            var batch = Batches.Of(3, $"b{i}", valueSize: 100);
            var before = p.SegmentCount;
            var r = await p.AppendAsync(batch);
            layout.Add((string.Empty, 0, batch.Length, r.BaseOffset));
        }
        // Derive file positions from the files themselves.
        var result = new List<(string, long, int, long)>();
        foreach (var file in Directory.GetFiles(PartitionDir, "*.log").Order())
        {
            var bytes = File.ReadAllBytes(file);
            for (var pos = 0; pos < bytes.Length;)
            {
                RecordBatchHeader.TryRead(bytes.AsSpan(pos), out var h);
                result.Add((file, pos, h.TotalSize, h.BaseOffset));
                pos += h.TotalSize;
            }
        }
        Assert.Equal(batches, result.Count);
        return result;
    }

    [Fact]
    public async Task Open_TailTruncatedMidBatch_CutsTheTornBatchAndKeepsTheRest()
    {
        var layout = await WriteAsync(20);
        var last = layout[^1];
        using (var f = new FileStream(last.File, FileMode.Open)) f.SetLength(last.Position + last.Size / 2);

        await using var log = NewLog();
        var report = log.Open();
        var p = log.GetPartition("t", 0);
        Assert.Single(report.Repairs);
        Assert.True(report.Repairs[0].Damage[0].IsTail);
        Assert.Equal(19 * 3, p.HighWatermark);
        Assert.Equal(19 * 3, Batches.ReadAll(p).Count);
        var next = await p.AppendAsync(Batches.Of(1));
        Assert.Equal(19 * 3, next.BaseOffset);
    }

    [Fact]
    public async Task Open_BytesFlippedInMiddleOfTail_SkipsOnlyTheCorruptBatch()
    {
        var layout = await WriteAsync(20);
        var victim = layout[7];
        FlipByte(victim.File, victim.Position + 70);

        await using var log = NewLog();
        var report = log.Open();
        var p = log.GetPartition("t", 0);
        var damage = Assert.Single(Assert.Single(report.Repairs).Damage);
        Assert.False(damage.IsTail);
        Assert.Equal(BatchValidation.CrcMismatch, damage.Reason);
        var records = Batches.ReadAll(p);
        Assert.Equal(19 * 3, records.Count);
        Assert.DoesNotContain(records, r => r.Offset >= victim.BaseOffset && r.Offset < victim.BaseOffset + 3);
        Assert.Equal(60, p.HighWatermark); // later batches keep their offsets
        Assert.StartsWith("b19-2", Batches.Text(records[^1].Value));
    }

    [Fact]
    public async Task Fsck_DamagedMiddleSegmentAndMissingIndex_ReportsThenRepairSalvagesExactlyTheValidBatches()
    {
        var layout = await WriteAsync(60, segmentBytes: 4096);
        var files = layout.Select(l => l.File).Distinct().ToList();
        Assert.True(files.Count >= 4);
        // Damage: a flipped byte in one batch of the second segment, a torn length in the third, and a deleted index.
        var inSecond = layout.Where(l => l.File == files[1]).ToList();
        FlipByte(inSecond[1].File, inSecond[1].Position + 80);
        var inThird = layout.Where(l => l.File == files[2]).ToList();
        WriteInt32(inThird[0].File, inThird[0].Position + 8, 0x7FFF_0000); // batchLength garbage
        File.Delete(Path.ChangeExtension(files[0], ".index"));
        var corrupted = new HashSet<long> { inSecond[1].BaseOffset, inThird[0].BaseOffset };

        var check = LogChecker.Check(_dir.Path, repair: false);
        Assert.False(check.Healthy);
        var partition = Assert.Single(check.Partitions);
        Assert.Equal(3, partition.Issues.Count);
        Assert.Contains(partition.Issues, i => i.Problem.Contains("offset index missing"));
        Assert.Equal(58, partition.Batches);
        var text = new StringWriter();
        check.WriteTo(text);
        Assert.Contains("DAMAGED", text.ToString());
        Assert.Contains("--repair", text.ToString());
        // A check without --repair changes nothing.
        Assert.False(File.Exists(Path.ChangeExtension(files[0], ".index")));

        var repaired = LogChecker.Check(_dir.Path, repair: true);
        Assert.True(repaired.Usable);
        Assert.Equal(58, repaired.Partitions[0].Batches);
        Assert.True(LogChecker.Check(_dir.Path, repair: false).Healthy);

        await using var log = NewLog(4096);
        log.Open();
        var records = Batches.ReadAll(log.GetPartition("t", 0));
        var expected = layout.Where(l => !corrupted.Contains(l.BaseOffset)).SelectMany(l => new[] { l.BaseOffset, l.BaseOffset + 1, l.BaseOffset + 2 });
        Assert.Equal(expected, records.Select(r => r.Offset));
    }

    [Fact]
    public async Task Fsck_TornTail_ReportsAndRepairCuts()
    {
        var layout = await WriteAsync(10);
        using (var f = new FileStream(layout[^1].File, FileMode.Open)) f.SetLength(layout[^1].Position + 30);
        var check = LogChecker.Check(_dir.Path, repair: false);
        Assert.Contains("tail", Assert.Single(check.Partitions[0].Issues).Problem);
        var repaired = LogChecker.Check(_dir.Path, repair: true);
        Assert.Equal(9, repaired.Partitions[0].Batches);
        Assert.Equal(layout[^1].Position, new FileInfo(layout[^1].File).Length);
    }

    [Fact]
    public async Task Fsck_WhileLogIsOpen_RefusesWithClearMessage()
    {
        await WriteAsync(2);
        await using var log = NewLog();
        log.Open();
        var ex = Assert.Throws<StorageException>(() => LogChecker.Check(_dir.Path, repair: false));
        Assert.Contains("stop it before fsck", ex.Message);
    }

    [Fact]
    public async Task Open_GarbageAppendedAfterCleanData_IsCutAndLogged()
    {
        var layout = await WriteAsync(5);
        using (var f = new FileStream(layout[^1].File, FileMode.Append)) f.Write(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 });
        await using var log = NewLog();
        var report = log.Open();
        Assert.True(Assert.Single(report.Repairs).Damage[0].IsTail);
        Assert.Equal(15, Batches.ReadAll(log.GetPartition("t", 0)).Count);
    }

    private static void FlipByte(string file, long position)
    {
        using var f = new FileStream(file, FileMode.Open);
        f.Position = position;
        var b = f.ReadByte();
        f.Position = position;
        f.WriteByte((byte)(b ^ 0x5A));
    }

    private static void WriteInt32(string file, long position, int value)
    {
        using var f = new FileStream(file, FileMode.Open);
        f.Position = position;
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        f.Write(bytes);
    }
}
