using EdgeStream.TestSupport;
using System.Collections.Concurrent;
using Confluent.Kafka;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>Scaled-out Confluent.Kafka consumers (and a kcat member) in one group on a 6-partition topic.</summary>
[Collection(SharedAgentCollection.Name)]
public sealed class ConsumerGroupTests(SharedAgent agent)
{
    private static readonly TimeSpan Rebalance = TimeSpan.FromSeconds(40);

    /// <summary>True when the members own every one of the 6 partitions exactly once between them.</summary>
    private static bool Exclusive(params Member[] members)
    {
        var all = members.SelectMany(m => m.Partitions).ToList();
        return all.Count == 6 && all.Distinct().Count() == 6;
    }

    [Fact]
    public async Task Subscribe_ThreeMembersThenOneCloses_EachPartitionOwnedOnceAndEveryRecordConsumedOnce()
    {
        var topic = Unique.Name("grp");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 300);
        var seen = new ConcurrentQueue<(int Partition, long Offset)>();
        var config = Clients.GroupConfig(agent.Bootstrap, group);
        await using var a = new Member(config, topic, commitEach: true, seen);
        await using var b = new Member(config, topic, commitEach: true, seen);
        await using var c = new Member(config, topic, commitEach: true, seen);

        Assert.True(await Wait.UntilAsync(() => Exclusive(a, b, c) && a.Partitions.Count > 0 && b.Partitions.Count > 0 && c.Partitions.Count > 0, Rebalance),
            $"no stable point with 3 members: {string.Join(" | ", new[] { a, b, c }.Select(m => string.Join(',', m.Partitions)))}\n{Clients.RecentLog()}");
        var closedOwned = c.Partitions;
        await c.CloseAsync();
        Assert.True(await Wait.UntilAsync(() => Exclusive(a, b), Rebalance), $"the closed member's partitions {string.Join(',', closedOwned)} did not move\n{Clients.RecentLog()}");

        Clients.Produce(agent.Bootstrap, topic, 300);
        Assert.True(await Wait.UntilAsync(() => seen.Count >= 600, Rebalance), $"consumed {seen.Count} of 600\n{Clients.RecentLog()}");
        var counts = seen.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.Count == 600, $"distinct {counts.Count} of {seen.Count}: duplicates {string.Join(' ', counts.Where(kv => kv.Value > 1).Take(10).Select(kv => kv.Key))}\n{Clients.RecentLog()}");
        Assert.All(counts, kv => Assert.Equal(1, kv.Value));
        Assert.True(Exclusive(a, b));
    }

    [Fact]
    public async Task Subscribe_MemberKilledWithoutLeaving_PartitionsMoveAfterSessionTimeout()
    {
        var topic = Unique.Name("kill");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 12);
        var seen = new ConcurrentQueue<(int, long)>();
        var config = Clients.GroupConfig(agent.Bootstrap, group);
        await using var a = new Member(config, topic, commitEach: false, seen);
        await using var b = new Member(config, topic, commitEach: false, seen);
        using var kcat = ExternalTool.Start("kcat", ["-b", agent.Bootstrap, "-G", group, "-X", "session.timeout.ms=6000",
            "-X", "heartbeat.interval.ms=500", "-X", "broker.address.family=v4", "-q", topic]);
        try
        {
            // A stable point with kcat as the third member: the two Confluent members own some, not all, partitions.
            bool ThreeWay()
            {
                var owned = a.Partitions.Concat(b.Partitions).ToList();
                return owned.Count is > 0 and < 6 && owned.Distinct().Count() == owned.Count && a.Partitions.Count > 0 && b.Partitions.Count > 0;
            }
            Assert.True(await Wait.UntilAsync(ThreeWay, Rebalance), $"kcat never got partitions: {string.Join(',', a.Partitions)} | {string.Join(',', b.Partitions)}\n{Clients.RecentLog()}");
            kcat.Kill(); // SIGKILL: no LeaveGroup, the session timeout must find it
            await kcat.WaitForExitAsync();
            Assert.True(await Wait.UntilAsync(() => Exclusive(a, b), Rebalance), $"the killed member's partitions did not move\n{Clients.RecentLog()}");
        }
        finally
        {
            if (!kcat.HasExited) kcat.Kill();
        }
    }

    [Fact]
    public async Task Subscribe_CooperativeStickyMemberCloses_SurvivorsKeepTheirPartitionsAndTakeOver()
    {
        var topic = Unique.Name("coop");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 12);
        var seen = new ConcurrentQueue<(int, long)>();
        var config = Clients.GroupConfig(agent.Bootstrap, group);
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        await using var a = new Member(config, topic, commitEach: false, seen);
        await using var b = new Member(config, topic, commitEach: false, seen);
        await using var c = new Member(config, topic, commitEach: false, seen);
        Assert.True(await Wait.UntilAsync(() => Exclusive(a, b, c) && a.Partitions.Count == 2 && b.Partitions.Count == 2 && c.Partitions.Count == 2, Rebalance),
            $"no balanced stable point: {string.Join(" | ", new[] { a, b, c }.Select(m => string.Join(',', m.Partitions)))}\n{Clients.RecentLog()}");
        var aBefore = a.Partitions;
        var bBefore = b.Partitions;
        await c.CloseAsync();
        Assert.True(await Wait.UntilAsync(() => Exclusive(a, b) && a.Partitions.Count == 3, Rebalance), $"c's partitions did not move\n{Clients.RecentLog()}");
        // Sticky: what a survivor owned stays with it.
        Assert.Superset(aBefore.ToHashSet(), a.Partitions.ToHashSet());
        Assert.Superset(bBefore.ToHashSet(), b.Partitions.ToHashSet());
    }

    [Fact]
    public async Task Subscribe_StaticMemberRestartsWithinSessionTimeout_KeepsPartitionsWithoutRebalance()
    {
        var topic = Unique.Name("static");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 12);
        var seen = new ConcurrentQueue<(int, long)>();
        var configA = Clients.GroupConfig(agent.Bootstrap, group);
        configA.GroupInstanceId = "instance-a";
        var configB = Clients.GroupConfig(agent.Bootstrap, group);
        configB.GroupInstanceId = "instance-b";
        var a = new Member(configA, topic, commitEach: false, seen);
        await using var b = new Member(configB, topic, commitEach: false, seen);
        Assert.True(await Wait.UntilAsync(() => Exclusive(a, b) && a.Partitions.Count == 3, Rebalance), $"no stable point\n{Clients.RecentLog()}");
        var owned = a.Partitions;
        var revocations = b.Revocations;

        // A static member's Close does not send LeaveGroup (KIP-345): the group waits for it to return.
        await a.CloseAsync();
        await using var again = new Member(configA, topic, commitEach: false, seen);
        Assert.True(await Wait.UntilAsync(() => again.Partitions.SequenceEqual(owned), Rebalance),
            $"the restarted static member got {string.Join(',', again.Partitions)}, not {string.Join(',', owned)}\n{Clients.RecentLog()}");
        Assert.Equal(revocations, b.Revocations);
        Assert.True(Exclusive(again, b));
    }
}
