using System.Collections.Concurrent;
using System.Text.Json;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Server;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// The consumer group protocol of KIP-848 (group.protocol=consumer) with Confluent.Kafka: the
/// broker assigns, members reconcile incrementally, and membership changes never lose or repeat a
/// committed record.
/// </summary>
[Collection(ConsumerProtocolAgentCollection.Name)]
public sealed class ConsumerProtocolTests(ConsumerProtocolAgent agent)
{
    private static readonly TimeSpan Rebalance = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task ThreeMembers_OneLeavesOneIsKilledOneJoins_EveryRecordOnceAndPartitionsSpread()
    {
        var topic = Unique.Name("kip848");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 60);
        var seen = new ConcurrentQueue<(int Partition, long Offset)>();
        var config = ConsumerProtocolClients.Config(agent.Bootstrap, group);

        var producer = new SteadyProducer(agent.Bootstrap, topic, already: 60);

        // Each record counts once its synchronous commit succeeded: a commit the broker acknowledged
        // but lost, or a partition handed on before its owner stopped, shows as a duplicate.
        await using var a = new Member(config, topic, commitEach: true, seen);
        await using var b = new Member(config, topic, commitEach: true, seen);
        using var killed = await ChildConsumer.StartAsync(agent.Bootstrap, group, topic, seen);
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count == 2 && b.Partitions.Count == 2 && killed.Partitions == 2, Rebalance),
            $"three members did not get two partitions each: a {a.Partitions.Count}, b {b.Partitions.Count}, child {killed.Partitions}\n{Clients.RecentLog()}");
        Assert.True(await Wait.UntilAsync(() => seen.Count >= 60, Rebalance), $"consumed {seen.Count}\n{Clients.RecentLog()}");

        await b.CloseAsync();
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count == 3 && killed.Partitions == 3, Rebalance),
            $"b's partitions did not move: a {a.Partitions.Count}, child {killed.Partitions}\n{Clients.RecentLog()}");

        killed.Kill();
        // A record the child was committing when it died counts if its commit made it, which the
        // committed offset tells (nobody else holds the partition before the session times out).
        SettleInDoubt(agent.Bootstrap, group, topic, killed.InDoubt, seen);
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count == 6, Rebalance), $"the killed member's partitions did not come to a: {a.Partitions.Count}\n{Clients.RecentLog()}");

        await using var c = new Member(config, topic, commitEach: true, seen);
        Assert.True(await Wait.UntilAsync(() => a.Partitions.Count == 3 && c.Partitions.Count == 3 && !a.Partitions.Intersect(c.Partitions).Any(), Rebalance),
            $"c did not get half: a {string.Join(',', a.Partitions)}, c {string.Join(',', c.Partitions)}\n{Clients.RecentLog()}");

        await producer.AssertEveryRecordOnceAsync(seen, Rebalance);
        Assert.True(a.Errors + c.Errors == 0, $"errors seen by the members: a {a.Errors}, b {b.Errors}, c {c.Errors}\n{Clients.RecentLog()}");
    }

    [Fact]
    public async Task Heartbeat_WireErrors_AsKafkaAnswersThem()
    {
        var topic = Unique.Name("hb");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 6);
        using var raw = await RawConnection.OpenAsync(agent.Node);

        // v0: the coordinator generates the member id.
        var joined = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Join(group, "", topic), 0);
        Assert.Equal(0, joined.ErrorCode);
        Assert.False(string.IsNullOrEmpty(joined.MemberId));
        Assert.True(joined.MemberEpoch > 0);
        Assert.Equal(300, joined.HeartbeatIntervalMs);
        Assert.Equal(6, joined.Assignment!.TopicPartitions.Sum(t => t.Partitions.Count));
        var memberId = joined.MemberId!;
        var epoch = joined.MemberEpoch;

        // v1: the client must bring its own.
        Assert.Equal((short)KafkaErrorCode.InvalidRequest, (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Join(group, "", topic), 1)).ErrorCode);
        var unsupported = Join(group, Guid.NewGuid().ToString(), topic);
        unsupported.ServerAssignor = "sticky";
        Assert.Equal((short)KafkaErrorCode.UnsupportedAssignor, (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(unsupported, 1)).ErrorCode);

        var steady = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, memberId, epoch), 1);
        Assert.Equal(0, steady.ErrorCode);
        Assert.Equal(epoch, steady.MemberEpoch);
        Assert.Null(steady.Assignment); // unchanged
        Assert.Equal((short)KafkaErrorCode.FencedMemberEpoch, (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, memberId, epoch + 1), 1)).ErrorCode);
        Assert.Equal((short)KafkaErrorCode.UnknownMemberId, (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "nobody", 1), 1)).ErrorCode);

        // OffsetCommit v9: the member epoch travels in the generation field.
        Assert.Equal((short)KafkaErrorCode.None, await CommitAsync(raw, group, memberId, epoch, topic));
        Assert.Equal((short)KafkaErrorCode.StaleMemberEpoch, await CommitAsync(raw, group, memberId, epoch + 1, topic));
        Assert.Equal((short)KafkaErrorCode.UnknownMemberId, await CommitAsync(raw, group, "nobody", epoch, topic));

        var described = await raw.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = [group, "no-such-group"] }, 0);
        Assert.Equal(0, described.Groups[0].ErrorCode);
        Assert.Equal("Stable", described.Groups[0].GroupState);
        Assert.Equal("uniform", described.Groups[0].AssignorName);
        Assert.Equal(memberId, Assert.Single(described.Groups[0].Members).MemberId);
        Assert.Equal((short)KafkaErrorCode.GroupIdNotFound, described.Groups[1].ErrorCode);

        var left = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, memberId, -1), 1);
        Assert.Equal(0, left.ErrorCode);
        Assert.Equal(-1, left.MemberEpoch);
        Assert.Equal((short)KafkaErrorCode.UnknownMemberId, (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, memberId, epoch), 1)).ErrorCode);
    }

    [Fact]
    public async Task SecondMemberJoins_GetsPartitionsOnlyAfterTheFirstRevokedThem()
    {
        var topic = Unique.Name("rev");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 6);
        using var raw = await RawConnection.OpenAsync(agent.Node);
        var first = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Join(group, "m1", topic), 1);
        Assert.Equal(6, Count(first.Assignment));
        var all = Owned(first.Assignment!);

        var second = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Join(group, "m2", topic), 1);
        Assert.Equal(0, second.ErrorCode);
        Assert.True(second.MemberEpoch > first.MemberEpoch);
        Assert.Equal(0, Count(second.Assignment)); // all six are still m1's

        var revoke = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "m1", first.MemberEpoch, all), 1);
        Assert.Equal(first.MemberEpoch, revoke.MemberEpoch); // keeps its epoch until it revoked
        Assert.Equal(3, Count(revoke.Assignment));
        var waiting = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "m2", second.MemberEpoch, []), 1);
        Assert.Null(waiting.Assignment); // m1 has not let go yet

        var revoked = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "m1", first.MemberEpoch, Owned(revoke.Assignment!)), 1);
        Assert.Equal(second.MemberEpoch, revoked.MemberEpoch);
        var given = await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "m2", second.MemberEpoch, []), 1);
        Assert.Equal(3, Count(given.Assignment));
        Assert.Empty(given.Assignment!.TopicPartitions[0].Partitions.Intersect(revoke.Assignment!.TopicPartitions[0].Partitions));

        await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Beat(group, "m2", second.MemberEpoch, Owned(given.Assignment!)), 1);
        var described = await raw.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = [group] }, 0);
        Assert.Equal("Stable", described.Groups[0].GroupState);
    }

    private static int Count(ConsumerGroupHeartbeatResponse.AssignmentData? assignment) =>
        assignment?.TopicPartitions.Sum(t => t.Partitions.Count) ?? 0;

    private static List<ConsumerGroupHeartbeatRequest.TopicPartitionsData> Owned(ConsumerGroupHeartbeatResponse.AssignmentData assignment) =>
        [.. assignment.TopicPartitions.Select(t => new ConsumerGroupHeartbeatRequest.TopicPartitionsData { TopicId = t.TopicId, Partitions = [.. t.Partitions] })];

    [Fact]
    public async Task ClassicAndConsumerGroups_Coexist_AndTheirIdsDoNotMix()
    {
        var topic = Unique.Name("mix");
        var classicGroup = Unique.Name("classic");
        var consumerGroup = Unique.Name("consumer");
        Clients.Produce(agent.Bootstrap, topic, 60);
        var classicSeen = new ConcurrentQueue<(int Partition, long Offset)>();
        var consumerSeen = new ConcurrentQueue<(int Partition, long Offset)>();
        var classicConfig = Clients.GroupConfig(agent.Bootstrap, classicGroup);
        await using var classic = new Member(classicConfig, topic, commitEach: true, classicSeen);
        await using var modern = new Member(ConsumerProtocolClients.Config(agent.Bootstrap, consumerGroup, "range"), topic, commitEach: true, consumerSeen);
        Assert.True(await Wait.UntilAsync(() => classicSeen.Count >= 60 && consumerSeen.Count >= 60, Rebalance),
            $"classic {classicSeen.Count}, consumer {consumerSeen.Count} of 60\n{Clients.RecentLog()}");

        using var raw = await RawConnection.OpenAsync(agent.Node);
        var join = await raw.SendAsync<JoinGroupResponse>(new JoinGroupRequest
        {
            GroupId = consumerGroup, MemberId = "", SessionTimeoutMs = 6000, RebalanceTimeoutMs = 6000, ProtocolType = "consumer",
            Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = [0, 0, 0, 0, 0, 0] }],
        }, 5);
        Assert.Equal((short)KafkaErrorCode.InconsistentGroupProtocol, join.ErrorCode);
        Assert.Equal((short)KafkaErrorCode.GroupIdNotFound,
            (await raw.SendAsync<ConsumerGroupHeartbeatResponse>(Join(classicGroup, Guid.NewGuid().ToString(), topic), 1)).ErrorCode);

        var listed = await raw.SendAsync<ListGroupsResponse>(new ListGroupsRequest { TypesFilter = ["consumer"] }, 5);
        Assert.Contains(listed.Groups, g => g.GroupId == consumerGroup && g.GroupType == "consumer" && g.ProtocolType == "consumer");
        Assert.DoesNotContain(listed.Groups, g => g.GroupId == classicGroup);
        var all = await raw.SendAsync<ListGroupsResponse>(new ListGroupsRequest(), 5);
        Assert.Contains(all.Groups, g => g.GroupId == classicGroup && g.GroupType == "classic");
        Assert.Contains(all.Groups, g => g.GroupId == consumerGroup && g.GroupType == "consumer");
        var describedClassic = await raw.SendAsync<ConsumerGroupDescribeResponse>(new ConsumerGroupDescribeRequest { GroupIds = [classicGroup] }, 0);
        Assert.Equal((short)KafkaErrorCode.GroupIdNotFound, describedClassic.Groups[0].ErrorCode);
    }

    [Fact]
    public async Task GroupsDescribe_ShowsAConsumerProtocolGroupWithItsMembersAndOffsets()
    {
        var topic = Unique.Name("desc");
        var group = Unique.Name("g");
        Clients.Produce(agent.Bootstrap, topic, 12);
        var seen = new ConcurrentQueue<(int Partition, long Offset)>();
        await using var member = new Member(ConsumerProtocolClients.Config(agent.Bootstrap, group), topic, commitEach: true, seen);
        Assert.True(await Wait.UntilAsync(() => seen.Count >= 12 && member.Partitions.Count == 6, Rebalance), $"consumed {seen.Count}\n{Clients.RecentLog()}");

        using var dir = new TempDirectory();
        var (exit, stdout, stderr) = await AgentProcess.RunToExitAsync(dir.Path, ["groups", "describe", group, "--format", "json", "-b", agent.Bootstrap]);
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("Stable", json.GetProperty("state").GetString());
        Assert.Equal("consumer", json.GetProperty("protocolType").GetString());
        var m = Assert.Single(json.GetProperty("members").EnumerateArray());
        Assert.Equal(6, m.GetProperty("assignment").EnumerateArray().Sum(a => a.GetProperty("partitions").GetArrayLength()));
        Assert.Equal(12, json.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("committedOffset").GetInt64()));
    }

    private static void SettleInDoubt(string bootstrap, string group, string topic, IReadOnlyList<(int Partition, long Offset)> inDoubt,
        ConcurrentQueue<(int Partition, long Offset)> seen)
    {
        if (inDoubt.Count == 0) return;
        using var probe = Clients.Builder(Clients.GroupConfig(bootstrap, group)).Build();
        var committed = probe.Committed([.. inDoubt.Select(d => new Confluent.Kafka.TopicPartition(topic, d.Partition))], TimeSpan.FromSeconds(10));
        foreach (var (partition, offset) in inDoubt)
            if (committed.First(c => c.Partition.Value == partition).Offset.Value > offset) seen.Enqueue((partition, offset));
    }

    private static ConsumerGroupHeartbeatRequest Join(string group, string memberId, string topic) => new()
    {
        GroupId = group,
        MemberId = memberId,
        MemberEpoch = 0,
        RebalanceTimeoutMs = 10000,
        SubscribedTopicNames = [topic],
        TopicPartitions = [],
    };

    private static ConsumerGroupHeartbeatRequest Beat(string group, string memberId, int epoch,
        List<ConsumerGroupHeartbeatRequest.TopicPartitionsData>? owned = null) => new()
    {
        GroupId = group,
        MemberId = memberId,
        MemberEpoch = epoch,
        SubscribedTopicNames = null,
        TopicPartitions = owned,
    };

    private static async Task<short> CommitAsync(RawConnection raw, string group, string memberId, int epoch, string topic)
    {
        var response = await raw.SendAsync<OffsetCommitResponse>(new OffsetCommitRequest
        {
            GroupId = group,
            GenerationIdOrMemberEpoch = epoch,
            MemberId = memberId,
            Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic { Name = topic, Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = 1 }] }],
        }, 9);
        return response.Topics[0].Partitions[0].ErrorCode;
    }
}
