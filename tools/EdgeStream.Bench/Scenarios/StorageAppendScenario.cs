using System.Diagnostics;
using EdgeStream.Records;
using EdgeStream.Storage;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// storage-append: 1 KB records in batches of 100 appended to one partition under each fsync
/// policy, next to the raw sequential write speed of the same disk measured in the same run
/// (the same bytes written to a plain file in the same chunk size: fsynced once at the end, the
/// upper bound; fsynced after every chunk, the peer of one writer with fsync-every-append; and
/// fsynced after every N chunks, the peer of N concurrent writers sharing group commits).
/// </summary>
public static class StorageAppendScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var totalMb = args.Int("mb", 256);
        var writers = args.Int("writers", 8);
        var recordSize = args.Int("record-bytes", 1024);
        var batchRecords = args.Int("batch", 100);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Directory.CreateDirectory(root);

        var batch = BuildBatch(batchRecords, recordSize);
        var batches = (int)((long)totalMb * 1024 * 1024 / batch.Length);
        var bytes = (long)batches * batch.Length;
        Console.WriteLine($"storage-append: {batches} batches of {batchRecords} x {recordSize} B ({bytes / (1024 * 1024)} MiB), {writers} concurrent writers, dir {root}");
        Console.WriteLine();

        try
        {
            var raw = RawWrite(root, batch, batches, fsyncEvery: int.MaxValue);
            var rawGroup = RawWrite(root, batch, batches, fsyncEvery: writers);
            var rawEach = RawWrite(root, batch, batches / 10, fsyncEvery: 1);
            Report.Header("run", "MB/s", "appends/s", "records/s", "vs raw, one fsync", $"vs raw, fsync per {writers} writes");
            Report.Row("raw file, one fsync at end", raw.MBps, raw.OpsPerSec, raw.OpsPerSec * batchRecords, 1.0, raw.MBps / rawGroup.MBps);
            Report.Row($"raw file, fsync every {writers} writes", rawGroup.MBps, rawGroup.OpsPerSec, rawGroup.OpsPerSec * batchRecords, rawGroup.MBps / raw.MBps, 1.0);
            Report.Row("raw file, fsync every write", rawEach.MBps, rawEach.OpsPerSec, rawEach.OpsPerSec * batchRecords, rawEach.MBps / raw.MBps, rawEach.MBps / rawGroup.MBps);
            foreach (var (policy, count, parallel) in new[]
            {
                (FsyncPolicy.Os, batches, writers),
                (FsyncPolicy.Group, batches, writers),
                (FsyncPolicy.Always, batches, writers),
                (FsyncPolicy.Always, batches / 10, 1),
            })
            {
                var r = await LogAppendAsync(root, policy, batch, count, parallel);
                Report.Row($"log, fsync={policy.ToString().ToLowerInvariant()}, {parallel} writer(s)", r.MBps, r.OpsPerSec, r.OpsPerSec * batchRecords, r.MBps / raw.MBps, r.MBps / rawGroup.MBps);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        return 0;
    }

    private readonly record struct Result(double MBps, double OpsPerSec);

    private static byte[] BuildBatch(int records, int size)
    {
        var builder = new RecordBatchBuilder();
        var value = new byte[size];
        new Random(1).NextBytes(value);
        for (var i = 0; i < records; i++) builder.Add(null, value, 1_700_000_000_000 + i);
        return builder.Build();
    }

    private static Result RawWrite(string root, byte[] chunk, int count, int fsyncEvery)
    {
        var path = Path.Combine(root, "raw.bin");
        var sw = Stopwatch.StartNew();
        using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
        {
            long position = 0;
            for (var i = 0; i < count; i++)
            {
                RandomAccess.Write(handle, chunk, position);
                position += chunk.Length;
                if ((i + 1) % fsyncEvery == 0) RandomAccess.FlushToDisk(handle);
            }
            RandomAccess.FlushToDisk(handle);
        }
        var seconds = sw.Elapsed.TotalSeconds;
        File.Delete(path);
        return new Result((double)count * chunk.Length / (1024 * 1024) / seconds, count / seconds);
    }

    private static async Task<Result> LogAppendAsync(string root, FsyncPolicy policy, byte[] template, int count, int writers)
    {
        var dir = Path.Combine(root, "log-" + policy);
        await using var log = new LogManager(new StorageOptions { LogDirectory = dir, FsyncPolicy = policy, DefaultTopicConfig = new TopicConfig { RetentionAge = null } });
        log.Open();
        var partition = log.CreateTopic("bench", 1)[0];
        var remaining = count;
        var sw = Stopwatch.StartNew();
        var tasks = new Task[writers];
        for (var w = 0; w < writers; w++)
        {
            tasks[w] = Task.Run(async () =>
            {
                // Each writer owns one buffer: AppendAsync rewrites the base offset in place.
                var buffer = (byte[])template.Clone();
                while (Interlocked.Decrement(ref remaining) >= 0)
                    await partition.AppendAsync(buffer);
            });
        }
        await Task.WhenAll(tasks);
        if (policy == FsyncPolicy.Os) await log.FlushAsync(); // same end state as the raw run: on disk
        var seconds = sw.Elapsed.TotalSeconds;
        await log.DisposeAsync();
        Directory.Delete(dir, recursive: true);
        return new Result((double)count * template.Length / (1024 * 1024) / seconds, count / seconds);
    }
}
