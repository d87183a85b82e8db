using System.Diagnostics;
using System.Text;
using EdgeStream.Records;

namespace EdgeStream.Storage.Tests;

/// <summary>
/// A child process appends with fsync-every-append and prints every acknowledged batch; we
/// kill -9 it at random moments, reopen the log, and check that every acknowledged batch is there,
/// intact and in order, and that no half-written batch is visible. The child reopens the same log
/// each round, so recovery runs between rounds as well.
/// </summary>
public sealed class CrashTests : IDisposable
{
    private const int Rounds = 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task KillDuringAppends_EveryAcknowledgedBatchSurvivesIntactAndInOrder()
    {
        var random = new Random(20261123);
        var acknowledged = new Dictionary<long, (long Id, int Count)>(); // base offset -> batch
        for (var round = 0; round < Rounds; round++)
        {
            var acks = await RunChildAndKillAsync(TimeSpan.FromMilliseconds(50 + random.Next(400)));
            foreach (var (offset, id, count) in acks)
                Assert.True(acknowledged.TryAdd(offset, (id, count)), $"round {round}: offset {offset} acknowledged twice");
            VerifyLog(acknowledged, round);
        }
        Assert.True(acknowledged.Count >= Rounds, $"only {acknowledged.Count} acknowledged batches over {Rounds} rounds");
    }

    private async Task<List<(long Offset, long Id, int Count)>> RunChildAndKillAsync(TimeSpan runFor)
    {
        var child = Path.Combine(AppContext.BaseDirectory, "EdgeStream.CrashChild.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(child);
        psi.ArgumentList.Add(_dir.Path);
        using var process = Process.Start(psi)!;
        var lines = new List<string>();
        var ready = new TaskCompletionSource();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            if (e.Data == "READY") ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30))); // whichever comes first
        Assert.True(ready.Task.IsCompleted, $"child did not start: {stderr}");
        // Not a wait for anything: the kill lands at a random moment of the append stream, which is
        // what this test is about.
        await Task.Delay(runFor);
        process.Kill(); // SIGKILL: no flush, no cleanup
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var acks = new List<(long, long, int)>();
        lock (lines)
        {
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                if (parts.Length == 4 && parts[0] == "ACK")
                    acks.Add((long.Parse(parts[1]), long.Parse(parts[2]), int.Parse(parts[3])));
            }
        }
        return acks;
    }

    private void VerifyLog(Dictionary<long, (long Id, int Count)> acknowledged, int round)
    {
        var log = new LogManager(new StorageOptions { LogDirectory = _dir.Path, DefaultTopicConfig = new TopicConfig { SegmentBytes = 64 * 1024 } });
        try
        {
            log.Open();
            if (!log.TryGetTopic("crash", out var topic)) { Assert.Empty(acknowledged); return; }
            var partition = topic![0];
            // Walk every batch: each must validate, offsets must be contiguous from 0.
            var found = new Dictionary<long, byte[]>();
            long expected = 0;
            for (var guard = 0; guard < 1_000_000 && expected < partition.HighWatermark; guard++)
            {
                using var read = partition.Read(expected, 256 * 1024);
                Assert.False(read.IsEmpty, $"round {round}: nothing readable at {expected} below high watermark {partition.HighWatermark}");
                var data = read.Memory.ToArray();
                for (var p = 0; p < data.Length;)
                {
                    var total = RecordBatchHeader.PeekTotalSize(data.AsSpan(p));
                    Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(data.AsSpan(p, total), out var h));
                    Assert.Equal(expected, h.BaseOffset);
                    found[h.BaseOffset] = data.AsSpan(p, total).ToArray();
                    expected = h.LastOffset + 1;
                    p += total;
                }
            }
            Assert.Equal(partition.LogEndOffset, expected);
            foreach (var (offset, (id, count)) in acknowledged)
            {
                Assert.True(found.TryGetValue(offset, out var stored), $"round {round}: acknowledged batch {id} at offset {offset} is missing");
                var original = CrashRecords.Build(id);
                // Same records byte for byte; only the base offset (outside the CRC) differs.
                Assert.Equal(original.AsSpan(RecordBatchHeader.BatchLengthPosition).ToArray(), stored.AsSpan(RecordBatchHeader.BatchLengthPosition).ToArray());
                RecordBatchHeader.TryRead(stored, out var h);
                Assert.Equal(count, h.LastOffsetDelta + 1);
            }
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
