using System.Text;
using EdgeStream.Records;
using EdgeStream.Storage;

// Usage: EdgeStream.CrashChild LOG_DIR [WRITERS]
// Appends batches to topic "crash" with fsync-every-append from several concurrent writers and
// prints "ACK <baseOffset> <batchId> <records>" once each append is acknowledged (durable). The
// crash test kill -9's this process at random moments and checks every acknowledged batch.
var logDir = args[0];
var writers = args.Length > 1 ? int.Parse(args[1]) : 4;

await using var log = new LogManager(new StorageOptions
{
    LogDirectory = logDir,
    FsyncPolicy = FsyncPolicy.Always,
    DefaultTopicConfig = new TopicConfig { SegmentBytes = 64 * 1024 },
});
log.Open();
var topic = log.TryGetTopic("crash", out var t) ? t! : log.CreateTopic("crash", 1);
var partition = topic[0];
var stdout = Console.Out;
var nextId = (long)(partition.LogEndOffset * 1000) + Environment.ProcessId; // unique across rounds
stdout.WriteLine("READY");
stdout.Flush();

var tasks = new Task[writers];
for (var w = 0; w < writers; w++)
{
    tasks[w] = Task.Run(async () =>
    {
        while (true)
        {
            var id = Interlocked.Increment(ref nextId);
            var batch = CrashRecords.Build(id);
            var result = await partition.AppendAsync(batch);
            lock (stdout)
            {
                stdout.WriteLine($"ACK {result.BaseOffset} {id} {result.LastOffset - result.BaseOffset + 1}");
                stdout.Flush();
            }
        }
    });
}
await Task.WhenAll(tasks);

/// <summary>Deterministic batch contents: the test rebuilds them from the batch id to compare.</summary>
public static class CrashRecords
{
    public static byte[] Build(long id)
    {
        var random = new Random((int)(id % int.MaxValue));
        var count = 1 + random.Next(5);
        var builder = new RecordBatchBuilder();
        for (var i = 0; i < count; i++)
        {
            var value = new byte[50 + random.Next(2000)];
            random.NextBytes(value);
            builder.Add(Encoding.UTF8.GetBytes($"{id}:{i}"), value, 1_700_000_000_000 + id);
        }
        return builder.Build();
    }
}
