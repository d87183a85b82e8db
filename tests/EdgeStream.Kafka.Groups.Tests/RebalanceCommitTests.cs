using System.Collections.Concurrent;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// Offset commits while a rebalance is being prepared: Kafka accepts them from a current member
/// with the current generation (it still owns its partitions until it rejoins), so a consumer that
/// commits synchronously, or in its revocation callback, never loses a commit to a rebalance and the
/// next owner of a partition starts exactly where the last one stopped.
/// </summary>
[Collection(SharedAgentCollection.Name)]
public sealed class RebalanceCommitTests(SharedAgent agent)
{
    private static readonly TimeSpan Rebalance = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task SynchronousCommitAfterEveryRecord_MemberLeavesAndAnotherJoinsWhileRecordsFlow_NoErrorAndEveryRecordOnce()
    {
        var topic = Unique.Name("rbc");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 60);
        var seen = new ConcurrentQueue<(int Partition, long Offset)>();
        var config = Clients.GroupConfig(agent.Bootstrap, group);

        // Records keep arriving through both membership changes, so members are committing when the
        // group starts preparing each rebalance.
        var producer = new SteadyProducer(agent.Bootstrap, topic, already: 60);

        await using var a = new Member(config, topic, commitEach: true, seen, countDelivered: true);
        await using var b = new Member(config, topic, commitEach: true, seen, countDelivered: true);
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count > 0 && b.Partitions.Count > 0 && a.Partitions.Count + b.Partitions.Count == 6, Rebalance),
            $"no stable point with 2 members\n{Clients.RecentLog()}");
        Assert.True(await Wait.UntilAsync(() => seen.Count >= 100, Rebalance), $"consumed {seen.Count}\n{Clients.RecentLog()}");

        await using var c = new Member(config, topic, commitEach: true, seen, countDelivered: true);
        Assert.True(await Wait.UntilAsync(() => c.Partitions.Count > 0 && a.Partitions.Count + b.Partitions.Count + c.Partitions.Count == 6, Rebalance),
            $"c got no partitions\n{Clients.RecentLog()}");
        await b.CloseAsync();
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count + c.Partitions.Count == 6, Rebalance), $"b's partitions did not move\n{Clients.RecentLog()}");

        await producer.AssertEveryRecordOnceAsync(seen, Rebalance);
        Assert.True(a.Errors + b.Errors + c.Errors == 0, $"errors seen by the members: a {a.Errors}, b {b.Errors}, c {c.Errors}\n{Clients.RecentLog()}");
        Assert.True(a.Revocations > 0 && c.Revocations > 0, "no rebalance reached the members");
    }

    [Fact]
    public async Task CommitInRevocationCallback_IsTheOffsetTheNextOwnerStartsFrom()
    {
        var topic = Unique.Name("rbc");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 600);
        var config = Clients.GroupConfig(agent.Bootstrap, group);

        // A consumes without committing, and commits its positions only when partitions are revoked.
        var positions = new Dictionary<int, long>();
        var committedAtRevocation = new ConcurrentDictionary<int, long>();
        Exception? commitError = null;
        var revoked = 0;
        using var a = Clients.Builder(config)
            .SetPartitionsRevokedHandler((consumer, partitions) =>
            {
                var offsets = partitions.Where(tp => positions.ContainsKey(tp.Partition.Value))
                    .Select(tp => new TopicPartitionOffset(tp.TopicPartition, positions[tp.Partition.Value])).ToList();
                try
                {
                    if (offsets.Count > 0) consumer.Commit(offsets);
                    foreach (var o in offsets) committedAtRevocation[o.Partition.Value] = o.Offset.Value;
                }
                catch (KafkaException ex)
                {
                    commitError = ex;
                }
                Interlocked.Increment(ref revoked);
            })
            .Build();
        a.Subscribe(topic);
        var consumed = 0;
        var deadline = DateTime.UtcNow + Rebalance;
        while (consumed < 300 && DateTime.UtcNow < deadline)
        {
            if (a.Consume(100) is not { IsPartitionEOF: false } r) continue;
            positions[r.Partition.Value] = r.Offset.Value + 1;
            consumed++;
        }
        Assert.True(consumed >= 300, $"a consumed {consumed} of 300\n{Clients.RecentLog()}");
        // Hold A where it is (polling still runs its callbacks) while B joins.
        a.Pause(a.Assignment);

        var seenByB = new ConcurrentQueue<(int Partition, long Offset)>();
        await using var b = new Member(config, topic, commitEach: false, seenByB);
        var (moved, _) = await Wait.UntilAsync(() =>
        {
            a.Consume(50);
            return Task.FromResult(Volatile.Read(ref revoked) > 0 && b.Partitions.Count > 0);
        }, done => done, Rebalance, TimeSpan.FromMilliseconds(10));
        Assert.True(moved, $"no rebalance handed partitions to b (a revoked {revoked} times)\n{Clients.RecentLog()}");
        Assert.Null(commitError);

        // More records in every partition, so b reads from each of its partitions even where a had
        // reached the end; a keeps polling (a member that stops polling leaves the group).
        Clients.Produce(agent.Bootstrap, topic, 60);
        var bPartitions = b.Partitions;
        Assert.True(await Wait.UntilAsync(() =>
            {
                a.Consume(20);
                return bPartitions.All(p => seenByB.Any(s => s.Partition == p));
            }, Rebalance, TimeSpan.FromMilliseconds(10)),
            $"b read nothing from some of {string.Join(',', bPartitions)}\n{Clients.RecentLog()}");
        foreach (var p in bPartitions)
        {
            var first = seenByB.Where(s => s.Partition == p).Min(s => s.Offset);
            var expected = committedAtRevocation.TryGetValue(p, out var o) ? o : 0;
            Assert.True(first == expected, $"partition {p}: b started at offset {first}, a committed {expected} in its revocation callback");
        }
        a.Close();
    }
}
