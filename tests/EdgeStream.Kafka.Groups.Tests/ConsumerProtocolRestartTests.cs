using System.Collections.Concurrent;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// A consumer-protocol group across a kill -9 of the agent: membership is memory only, so the
/// running member's next heartbeat is UNKNOWN_MEMBER_ID and it rejoins; its committed offsets were
/// persisted, so it resumes exactly after the last record it committed.
/// </summary>
public sealed class ConsumerProtocolRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);
    // An agent of each test's own: xUnit makes an instance of this class per test.
    private readonly SharedAgent _agent = SharedAgent.Edge("--partitions", "6",
        "--kafka-group-consumer-session-timeout", "3s", "--kafka-group-consumer-heartbeat-interval", "300ms");

    public Task InitializeAsync() => _agent.InitializeAsync();
    public Task DisposeAsync() => _agent.DisposeAsync();

    [Fact]
    public async Task MemberKeepsRunningThroughAgentKill_RejoinsAndResumesFromCommittedOffsets_EveryRecordOnce()
    {
        var node = _agent.Node;
        var topic = Unique.Name("restart");
        var group = Unique.Name("g");
        Clients.Produce(node.Bootstrap, topic, 60);
        var seen = new ConcurrentQueue<(int Partition, long Offset)>();
        await using var member = new Member(ConsumerProtocolClients.Config(node.Bootstrap, group), topic, commitEach: true, seen);
        Assert.True(await Wait.UntilAsync(() => seen.Count >= 60, Deadline), $"consumed {seen.Count} of 60\n{Clients.RecentLog()}");

        await node.RestartAsync(kill: true);
        Clients.Produce(node.Bootstrap, topic, 60);

        Assert.True(await Wait.UntilAsync(() => seen.Distinct().Count() >= 120, Deadline), $"consumed {seen.Distinct().Count()} of 120\n{Clients.RecentLog()}");
        var twice = seen.GroupBy(s => s).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(seen.Count == 120 && twice.Count == 0, $"{seen.Count} consumed; twice: {string.Join(' ', twice.Take(10))}\n{Clients.RecentLog()}");
        Assert.Equal(6, member.Partitions.Count);
    }
}
