using EdgeStream.Storage.Durability;

namespace EdgeStream.Storage.Tests;

/// <summary>
/// The group commit on its own, with an fsync the test controls: one fsync for the appends written
/// before it, and a failed fsync whose appends are never durable, whatever succeeds after it.
/// </summary>
public sealed class GroupCommitterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A partition stand-in: what is written (the end offset) and an fsync that can be held or made to fail.</summary>
    private sealed class FakeDisk(bool held = false)
    {
        public long Written;
        public int Flushes;
        public int FailNext;
        // Each fsync takes one permit: none while held.
        public readonly SemaphoreSlim Gate = new(held ? 0 : 1000);
        public readonly List<long> Published = [];

        public GroupCommitter Committer() => new(0, TimeSpan.Zero, Capture, Flush, t => { lock (Published) Published.Add(t.EndOffset); });

        private FlushTarget Capture() => new(null!, Interlocked.Read(ref Written), 0);

        private void Flush(FlushTarget target)
        {
            Assert.True(Gate.Wait(Timeout), "the test never released the fsync");
            Interlocked.Increment(ref Flushes);
            if (Interlocked.Exchange(ref FailNext, 0) == 1) throw new IOException("EIO");
        }
    }

    [Fact]
    public async Task WaitDurableAsync_WritesDuringAnFsync_OneMoreFsyncCoversThemAll()
    {
        // The first fsync is held while 50 more appends are written and waited for.
        var disk = new FakeDisk(held: true);
        var committer = disk.Committer();
        disk.Written = 1;
        committer.Request(1);
        var first = committer.WaitDurableAsync(1, CancellationToken.None).AsTask();
        var waits = new List<Task>();
        for (var end = 2; end <= 51; end++)
        {
            disk.Written = end;
            committer.Request(end);
            waits.Add(committer.WaitDurableAsync(end, CancellationToken.None).AsTask());
        }
        Assert.Equal(AppendDurability.Pending, committer.Check(51));
        disk.Gate.Release(1000);

        await first.WaitAsync(Timeout);
        await Task.WhenAll(waits).WaitAsync(Timeout);
        Assert.Equal(AppendDurability.Durable, committer.Check(51));
        // The held fsync covered offset 1 only; the next one everything written while it was held.
        Assert.Equal(2, disk.Flushes);
        Assert.Equal([1L, 51L], disk.Published);
    }

    [Fact]
    public async Task Check_FsyncFailed_ItsAppendsFailForGoodLaterAppendsBecomeDurable()
    {
        var disk = new FakeDisk { FailNext = 1, Written = 10 };
        var committer = disk.Committer();
        committer.Request(10);
        var failed = await Assert.ThrowsAsync<StorageException>(async () => await committer.WaitDurableAsync(10, CancellationToken.None).AsTask().WaitAsync(Timeout));
        Assert.Contains("EIO", failed.Message);
        Assert.Equal(AppendDurability.Failed, committer.Check(5));
        Assert.Equal(AppendDurability.Failed, committer.Check(10));

        // A later fsync succeeds: what it covers anew is durable, the failed range stays failed
        // (after a failed fsync the kernel may have dropped those pages).
        disk.Written = 20;
        committer.Request(20);
        await committer.WaitDurableAsync(20, CancellationToken.None).AsTask().WaitAsync(Timeout);
        Assert.Equal(AppendDurability.Durable, committer.Check(20));
        Assert.Equal(AppendDurability.Durable, committer.Check(11));
        Assert.Equal(AppendDurability.Failed, committer.Check(10));
        await Assert.ThrowsAsync<StorageException>(async () => await committer.WaitDurableAsync(7, CancellationToken.None));
        Assert.Equal([20L], disk.Published);
    }
}
