using EdgeStream.TestSupport;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>Raw group requests with bad input get the error codes Kafka returns; the connection stays up.</summary>
[Collection(SharedAgentCollection.Name)]
public sealed class GroupErrorCodeTests(SharedAgent agent)
{
    // Kafka error codes (protocol guide).
    private const short None = 0, IllegalGeneration = 22, InconsistentGroupProtocol = 23, UnknownMemberId = 25, InvalidSessionTimeout = 26,
        RebalanceInProgress = 27, NonEmptyGroup = 68, GroupIdNotFound = 69, MemberIdRequired = 79, FencedInstanceId = 82;

    private static JoinGroupRequest Join(string group, string memberId = "", string? instance = null, string protocolType = "consumer", int session = 6000) => new()
    {
        GroupId = group,
        SessionTimeoutMs = session,
        RebalanceTimeoutMs = 10_000,
        MemberId = memberId,
        GroupInstanceId = instance,
        ProtocolType = protocolType,
        Protocols = { new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = [0, 1, 2] } },
    };

    /// <summary>Joins as a new dynamic member (JoinGroup v5: MEMBER_ID_REQUIRED first) and returns the completed response.</summary>
    private static async Task<JoinGroupResponse> JoinNewAsync(RawConnection c, string group)
    {
        var first = await c.SendAsync<JoinGroupResponse>(Join(group), 5);
        Assert.Equal(MemberIdRequired, first.ErrorCode);
        Assert.NotEmpty(first.MemberId);
        return await c.SendAsync<JoinGroupResponse>(Join(group, first.MemberId), 5);
    }

    [Fact]
    public async Task Heartbeat_UnknownMemberOrOldGeneration_UnknownMemberIdOrIllegalGeneration()
    {
        var group = Unique.Name("raw");
        using var c = await RawConnection.OpenAsync(agent.Node);
        var joined = await JoinNewAsync(c, group);
        Assert.Equal(None, joined.ErrorCode);
        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(joined.MemberId, joined.Leader);
        Assert.Equal([0, 1, 2], Assert.Single(joined.Members).Metadata);

        var sync = await c.SendAsync<SyncGroupResponse>(new SyncGroupRequest
        {
            GroupId = group, GenerationId = 1, MemberId = joined.MemberId,
            Assignments = { new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = joined.MemberId, Assignment = [9, 8, 7] } },
        }, 3);
        Assert.Equal(None, sync.ErrorCode);
        Assert.Equal([9, 8, 7], sync.Assignment);

        var ok = await c.SendAsync<HeartbeatResponse>(new HeartbeatRequest { GroupId = group, GenerationId = 1, MemberId = joined.MemberId }, 3);
        Assert.Equal(None, ok.ErrorCode);
        var unknown = await c.SendAsync<HeartbeatResponse>(new HeartbeatRequest { GroupId = group, GenerationId = 1, MemberId = "nobody" }, 3);
        Assert.Equal(UnknownMemberId, unknown.ErrorCode);
        var old = await c.SendAsync<HeartbeatResponse>(new HeartbeatRequest { GroupId = group, GenerationId = 0, MemberId = joined.MemberId }, 3);
        Assert.Equal(IllegalGeneration, old.ErrorCode);
        var syncOld = await c.SendAsync<SyncGroupResponse>(new SyncGroupRequest { GroupId = group, GenerationId = 7, MemberId = joined.MemberId }, 3);
        Assert.Equal(IllegalGeneration, syncOld.ErrorCode);

        // Only empty groups can be deleted.
        var delete = await c.SendAsync<DeleteGroupsResponse>(new DeleteGroupsRequest { GroupsNames = { group, group + "-missing" } }, 2);
        Assert.Equal([NonEmptyGroup, GroupIdNotFound], delete.Results.Select(r => r.ErrorCode));

        var leave = await c.SendAsync<LeaveGroupResponse>(new LeaveGroupRequest { GroupId = group, Members = { new LeaveGroupRequest.MemberIdentity { MemberId = joined.MemberId }, new LeaveGroupRequest.MemberIdentity { MemberId = "nobody" } } }, 3);
        Assert.Equal(None, leave.ErrorCode);
        Assert.Equal([None, UnknownMemberId], leave.Members.Select(m => m.ErrorCode));
        var deleted = await c.SendAsync<DeleteGroupsResponse>(new DeleteGroupsRequest { GroupsNames = { group } }, 2);
        Assert.Equal(None, Assert.Single(deleted.Results).ErrorCode);
    }

    /// <summary>
    /// Kafka's rule: while the group prepares a rebalance, heartbeats say REBALANCE_IN_PROGRESS (rejoin)
    /// but a current member's commit with the current generation is accepted: it still owns its
    /// partitions, and this is when it commits its progress. Only between the JoinGroup response
    /// and SyncGroup (CompletingRebalance) is a commit refused with REBALANCE_IN_PROGRESS.
    /// </summary>
    [Fact]
    public async Task HeartbeatAndCommit_SecondMemberJoining_HeartbeatSaysRebalanceCommitAcceptedUntilCompletingRebalance()
    {
        var group = Unique.Name("raw");
        var topic = Unique.Name("raw");
        Clients.Produce(agent.Bootstrap, topic, 6);
        using var first = await RawConnection.OpenAsync(agent.Node);
        using var second = await RawConnection.OpenAsync(agent.Node);
        var a = await JoinNewAsync(first, group);
        Assert.Equal(None, (await first.SendAsync<SyncGroupResponse>(new SyncGroupRequest { GroupId = group, GenerationId = a.GenerationId, MemberId = a.MemberId }, 3)).ErrorCode);

        // The second member's JoinGroup is held until the first rejoins.
        var secondId = (await second.SendAsync<JoinGroupResponse>(Join(group), 5)).MemberId;
        var held = second.SendAsync<JoinGroupResponse>(Join(group, secondId), 5);
        var (rebalancing, beat) = await Wait.UntilAsync(
            () => first.SendAsync<HeartbeatResponse>(new HeartbeatRequest { GroupId = group, GenerationId = a.GenerationId, MemberId = a.MemberId }, 3),
            r => r.ErrorCode == RebalanceInProgress, TimeSpan.FromSeconds(10));
        Assert.True(rebalancing, $"heartbeat said {beat.ErrorCode}");
        Assert.False(held.IsCompleted);

        // PreparingRebalance: the first member's commit (what a revocation callback does) is kept.
        var commit = await first.SendAsync<OffsetCommitResponse>(Commit(group, a.GenerationId, a.MemberId, topic, 0, 5), 8);
        Assert.Equal(None, commit.Topics[0].Partitions[0].ErrorCode);
        var stale = await first.SendAsync<OffsetCommitResponse>(Commit(group, a.GenerationId + 1, a.MemberId, topic, 0, 5), 8);
        Assert.Equal(IllegalGeneration, stale.Topics[0].Partitions[0].ErrorCode);

        var rejoin = await first.SendAsync<JoinGroupResponse>(Join(group, a.MemberId), 5);
        var b = await held;
        Assert.Equal(None, rejoin.ErrorCode);
        Assert.Equal(None, b.ErrorCode);
        Assert.Equal(2, rejoin.GenerationId);
        Assert.Equal(2, b.GenerationId);
        Assert.Equal(a.MemberId, rejoin.Leader);
        Assert.Equal(2, rejoin.Members.Count);
        Assert.Empty(b.Members);

        // CompletingRebalance: joined generation 2, assignment not yet known: refused.
        var early = await second.SendAsync<OffsetCommitResponse>(Commit(group, 2, b.MemberId, topic, 0, 3), 8);
        Assert.Equal(RebalanceInProgress, early.Topics[0].Partitions[0].ErrorCode);

        var fetch = await first.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest { Groups = { new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = group, Topics = null } } }, 8);
        var p = Assert.Single(Assert.Single(Assert.Single(fetch.Groups).Topics).Partitions);
        Assert.Equal((0, 5L), (p.PartitionIndex, p.CommittedOffset));
    }

    private static OffsetCommitRequest Commit(string group, int generation, string member, string topic, int partition, long offset) => new()
    {
        GroupId = group,
        GenerationIdOrMemberEpoch = generation,
        MemberId = member,
        Topics = { new OffsetCommitRequest.OffsetCommitRequestTopic { Name = topic, Partitions = { new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = partition, CommittedOffset = offset } } } },
    };

    [Fact]
    public async Task OffsetCommit_UnknownGroupWithGeneration_IllegalGenerationBeforeV9GroupIdNotFoundFromV9()
    {
        var topic = Unique.Name("raw");
        Clients.Produce(agent.Bootstrap, topic, 6);
        using var c = await RawConnection.OpenAsync(agent.Node);
        var v8 = await c.SendAsync<OffsetCommitResponse>(Commit(Unique.Name("none"), 3, "m", topic, 0, 1), 8);
        Assert.Equal(IllegalGeneration, v8.Topics[0].Partitions[0].ErrorCode);
        var v9 = await c.SendAsync<OffsetCommitResponse>(Commit(Unique.Name("none"), 3, "m", topic, 0, 1), 9);
        Assert.Equal(GroupIdNotFound, v9.Topics[0].Partitions[0].ErrorCode);

        // A simple commit (generation -1, no member) creates the group and is fetched back.
        var simpleGroup = Unique.Name("simple");
        var simple = await c.SendAsync<OffsetCommitResponse>(Commit(simpleGroup, -1, "", topic, 2, 4), 8);
        Assert.Equal(None, simple.Topics[0].Partitions[0].ErrorCode);
        var fetch = await c.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest { Groups = { new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = simpleGroup, Topics = null } } }, 8);
        var p = Assert.Single(Assert.Single(Assert.Single(fetch.Groups).Topics).Partitions);
        Assert.Equal((2, 4L), (p.PartitionIndex, p.CommittedOffset));
    }

    [Fact]
    public async Task JoinGroup_BadSessionTimeoutOrProtocolOrFencedInstance_KafkaErrorCodes()
    {
        var group = Unique.Name("raw");
        using var c = await RawConnection.OpenAsync(agent.Node);
        Assert.Equal(InvalidSessionTimeout, (await c.SendAsync<JoinGroupResponse>(Join(group, session: 10), 5)).ErrorCode);

        var joined = await c.SendAsync<JoinGroupResponse>(Join(group, instance: "static-1"), 5);
        Assert.Equal(None, joined.ErrorCode); // static members get their id without MEMBER_ID_REQUIRED
        using var other = await RawConnection.OpenAsync(agent.Node);
        Assert.Equal(InconsistentGroupProtocol, (await other.SendAsync<JoinGroupResponse>(Join(group, protocolType: "connect"), 5)).ErrorCode);

        var fenced = await c.SendAsync<HeartbeatResponse>(new HeartbeatRequest { GroupId = group, GenerationId = joined.GenerationId, MemberId = "someone-else", GroupInstanceId = "static-1" }, 3);
        Assert.Equal(FencedInstanceId, fenced.ErrorCode);
        var unknownMember = await c.SendAsync<JoinGroupResponse>(Join(group, "not-a-member"), 5);
        Assert.Equal(UnknownMemberId, unknownMember.ErrorCode);

        var described = await c.SendAsync<DescribeGroupsResponse>(new DescribeGroupsRequest { Groups = { group } }, 5);
        var d = Assert.Single(described.Groups);
        Assert.Equal("CompletingRebalance", d.GroupState);
        var m = Assert.Single(d.Members);
        Assert.Equal(("static-1", "raw-test", "/127.0.0.1"), (m.GroupInstanceId, m.ClientId, m.ClientHost));
    }
}
