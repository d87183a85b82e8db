using System.Text;
using EdgeStream.Records;
using EdgeStream.Storage.Transactions;

namespace EdgeStream.Storage.Tests;

/// <summary>The last stable offset and aborted transactions a partition derives from transactional batches and markers.</summary>
public sealed class TransactionIndexTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private LogManager Open()
    {
        var log = new LogManager(new StorageOptions { LogDirectory = _dir.Path, FsyncPolicy = FsyncPolicy.Group, DefaultTopicConfig = TopicConfig.Default });
        log.Open();
        return log;
    }

    private static byte[] Transactional(long producerId, int count, int sequence)
    {
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = 0, BaseSequence = sequence, IsTransactional = true };
        for (var i = 0; i < count; i++) builder.Add(null, Encoding.UTF8.GetBytes($"p{producerId}-{sequence + i}"), 1_700_000_000_000);
        return builder.Build();
    }

    private static byte[] Marker(long producerId, ControlRecordType type) => ControlBatch.Build(producerId, 0, type, 0, 1_700_000_000_000);

    [Fact]
    public void ControlBatch_Build_IsAValidControlBatchWhoseTypeReadsBack()
    {
        foreach (var type in new[] { ControlRecordType.Abort, ControlRecordType.Commit })
        {
            var batch = Marker(7, type);
            Assert.Equal(BatchValidation.Valid, RecordBatchHeader.Validate(batch, out var h));
            Assert.True(h.IsControl && h.IsTransactional);
            Assert.Equal((7L, -1), (h.ProducerId, h.BaseSequence));
            Assert.True(ControlBatch.TryReadType(batch, out var read));
            Assert.Equal(type, read);
        }
    }

    [Fact]
    public async Task LastStableOffset_OpenTransaction_HoldsBackUntilItsMarker()
    {
        await using var log = Open();
        var p = log.CreateTopic("t", 1)[0];
        await p.AppendAsync(Batches.Of(2));                         // 0-1 plain
        Assert.Equal(2, p.LastStableOffset);
        await p.AppendAsync(Transactional(1, 3, 0));               // 2-4 open txn of producer 1
        await p.AppendAsync(Batches.Of(1));                         // 5 plain
        await p.AppendAsync(Transactional(2, 1, 0));               // 6 open txn of producer 2
        Assert.Equal((7L, 2L), (p.HighWatermark, p.LastStableOffset));

        await p.AppendAsync(Marker(1, ControlRecordType.Abort));   // 7 aborts 2-4
        Assert.Equal(6, p.LastStableOffset);
        await p.AppendAsync(Marker(2, ControlRecordType.Commit));  // 8 commits 6
        Assert.Equal(9, p.LastStableOffset);

        var aborted = new List<AbortedTransaction>();
        p.CollectAbortedTransactions(0, 9, aborted);
        Assert.Equal([new AbortedTransaction(1, 2, 7)], aborted);
        aborted.Clear();
        p.CollectAbortedTransactions(8, 9, aborted);
        Assert.Empty(aborted);

        // read_committed reads stop at the last stable offset, at a batch boundary.
        await p.AppendAsync(Transactional(3, 2, 0));               // 9-10 open
        using (var read = p.Read(0, 1 << 20, p.LastStableOffset))
        {
            RecordBatchHeader.TryRead(read.Memory.Span[^Marker(2, ControlRecordType.Commit).Length..], out var last);
            Assert.Equal(8, last.BaseOffset);
        }
        using (var atStable = p.Read(9, 1 << 20, p.LastStableOffset)) Assert.True(atStable.IsEmpty);
    }

    [Fact]
    public async Task LastStableOffset_AfterReopen_RebuiltFromTheLog()
    {
        await using (var log = Open())
        {
            var p = log.CreateTopic("t", 1)[0];
            await p.AppendAsync(Transactional(1, 2, 0));           // 0-1
            await p.AppendAsync(Marker(1, ControlRecordType.Abort)); // 2
            await p.AppendAsync(Transactional(2, 2, 0));           // 3-4 still open
        }
        await using var reopened = Open();
        var q = reopened.GetPartition("t", 0);
        Assert.Equal((5L, 3L), (q.HighWatermark, q.LastStableOffset));
        var aborted = new List<AbortedTransaction>();
        q.CollectAbortedTransactions(0, 5, aborted);
        Assert.Equal([new AbortedTransaction(1, 0, 2)], aborted);
    }
}
