using System.Buffers;
using System.Text.RegularExpressions;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.Kafka.Server;

namespace EdgeStream.Kafka.Groups;

/// <summary>What a ConsumerGroupHeartbeat says, with topic ids already mapped to names.</summary>
/// <param name="SubscribedTopicNames">Null: unchanged since the last heartbeat.</param>
/// <param name="SubscribedTopicRegex">Null: unchanged; empty: none.</param>
/// <param name="OwnedPartitions">Null: not reported in this heartbeat.</param>
public sealed record ConsumerHeartbeat(string GroupId, string MemberId, int MemberEpoch, string? InstanceId, string? RackId, int RebalanceTimeoutMs,
    IReadOnlyList<string>? SubscribedTopicNames, string? SubscribedTopicRegex, string? ServerAssignor, IReadOnlyList<TopicPartitionKey>? OwnedPartitions,
    string ClientId, string ClientHost, short Version);

/// <summary>The answer to a ConsumerGroupHeartbeat; <paramref name="Assignment"/> is null when it did not change.</summary>
public sealed record ConsumerHeartbeatResult(KafkaErrorCode Error, string? ErrorMessage, string? MemberId = null, int MemberEpoch = 0,
    int HeartbeatIntervalMs = 0, IReadOnlyList<TopicPartitionKey>? Assignment = null);

/// <summary>The topics a consumer group can subscribe to: partition counts (0 = no such topic) and every name (for regular expressions).</summary>
public sealed record TopicView(Func<string, int> PartitionCount, Func<IEnumerable<string>> Names);

/// <summary>A consumer-protocol group as ConsumerGroupDescribe reports it.</summary>
public sealed record ConsumerGroupDescription(KafkaErrorCode Error, string? ErrorMessage, string GroupId, string State = "Dead", int GroupEpoch = 0,
    int AssignmentEpoch = 0, string AssignorName = "", IReadOnlyList<ConsumerMemberDescription>? Members = null);

public sealed record ConsumerMemberDescription(string MemberId, string? InstanceId, string? RackId, int MemberEpoch, string ClientId, string ClientHost,
    IReadOnlyList<string> SubscribedTopicNames, string? SubscribedTopicRegex, IReadOnlyList<TopicPartitionKey> Assignment, IReadOnlyList<TopicPartitionKey> TargetAssignment);

/// <summary>
/// The consumer group protocol of KIP-848, beside the classic one: members heartbeat with their
/// epoch and subscription; every subscription or membership change bumps the group epoch, the next
/// heartbeat computes a target assignment with a server-side assignor, and each member is moved to
/// it incrementally (<see cref="ConsumerGroupReconciliation"/>). No member waits for another: there
/// is no join or sync barrier. Membership is in memory, like the classic groups' (after a restart
/// members are unknown and rejoin with epoch 0); committed offsets are shared with the classic
/// path and persisted by the <see cref="OffsetStore"/>.
/// </summary>
public sealed partial class GroupCoordinator
{
    private const int LeaveEpoch = -1;

    public ConsumerHeartbeatResult ConsumerGroupHeartbeat(ConsumerHeartbeat r, TopicView topics)
    {
        if (InvalidHeartbeat(r) is { } message) return new ConsumerHeartbeatResult(KafkaErrorCode.InvalidRequest, message);
        if (r.SubscribedTopicRegex is { Length: > 0 } regex && !IsValidRegex(regex))
            return new ConsumerHeartbeatResult(KafkaErrorCode.InvalidRegularExpression, $"SubscribedTopicRegex {regex} is not a valid regular expression.");
        while (true)
        {
            var group = r.MemberEpoch == 0 ? _groups.GetOrAdd(r.GroupId, static id => new ClassicGroup(id)) : _groups.GetValueOrDefault(r.GroupId);
            if (group is null) return UnknownMember(r);
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue;
                if (group.Consumer is null)
                {
                    // One namespace of group ids: a classic group in use is not a consumer group.
                    // An empty one (offsets only, e.g. after a restart) becomes one, keeping its offsets.
                    if (group.Members.Count > 0 || group.PendingMembers.Count > 0 || group.State != GroupState.Empty)
                        return new ConsumerHeartbeatResult(KafkaErrorCode.GroupIdNotFound, $"Group {r.GroupId} is not a consumer group.");
                    if (r.MemberEpoch != 0) return UnknownMember(r);
                    group.Consumer = new ConsumerGroup();
                    group.ProtocolType = null;
                    group.ProtocolName = null;
                }
                return r.MemberEpoch < 0 ? LeaveConsumerGroup(group.Consumer, r) : HeartbeatMember(group.Consumer, r, topics);
            }
        }
    }

    /// <summary>Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid: the message of INVALID_REQUEST, or null.</summary>
    private static string? InvalidHeartbeat(ConsumerHeartbeat r)
    {
        if (r.GroupId.Length == 0) return "GroupId can't be empty.";
        if (r.InstanceId is { Length: 0 }) return "InstanceId can't be empty.";
        if (r.RackId is { Length: 0 }) return "RackId can't be empty.";
        // v1 (KIP-1082): the consumer generates its member id; v0 joins with an empty one.
        if ((r.Version >= 1 || r.MemberEpoch != 0) && r.MemberId.Length == 0) return "MemberId can't be empty.";
        if (r.MemberEpoch == 0)
        {
            if (r.RebalanceTimeoutMs == -1) return "RebalanceTimeoutMs must be provided in first request.";
            if (r.OwnedPartitions is null || r.OwnedPartitions.Count > 0) return "TopicPartitions must be empty when (re-)joining.";
            if (r.SubscribedTopicNames is null && r.SubscribedTopicRegex is null)
                return "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.";
        }
        else if (r.MemberEpoch == ConsumerGroupMember.StaticLeaveEpoch)
        {
            if (r.InstanceId is null) return "InstanceId can't be null.";
        }
        else if (r.MemberEpoch < ConsumerGroupMember.StaticLeaveEpoch)
        {
            return "MemberEpoch is invalid.";
        }
        return null;
    }

    private static bool IsValidRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static ConsumerHeartbeatResult UnknownMember(ConsumerHeartbeat r) =>
        new(KafkaErrorCode.UnknownMemberId, $"Member {r.MemberId} is not a member of group {r.GroupId}.");

    private ConsumerHeartbeatResult LeaveConsumerGroup(ConsumerGroup group, ConsumerHeartbeat r)
    {
        var memberId = r.MemberId;
        if (r.InstanceId is not null && group.StaticMembers.TryGetValue(r.InstanceId, out var holder))
        {
            if (memberId != holder) return new ConsumerHeartbeatResult(KafkaErrorCode.FencedInstanceId, $"Instance {r.InstanceId} is held by another member.");
        }
        if (!group.Members.TryGetValue(memberId, out var member)) return UnknownMember(r);
        if (r.MemberEpoch == ConsumerGroupMember.StaticLeaveEpoch && member.InstanceId is not null)
        {
            // KIP-848: a static member leaving "temporarily" keeps its assignment for a successor
            // with the same instance id until its session times out.
            if (member.MemberEpoch != ConsumerGroupMember.StaticLeaveEpoch) member.PreviousMemberEpoch = member.MemberEpoch;
            member.MemberEpoch = ConsumerGroupMember.StaticLeaveEpoch;
            member.LastSeenMs = _now();
        }
        else
        {
            group.Remove(member);
        }
        return new ConsumerHeartbeatResult(KafkaErrorCode.None, null, memberId, r.MemberEpoch, Options.ConsumerHeartbeatIntervalMs);
    }

    private ConsumerHeartbeatResult HeartbeatMember(ConsumerGroup group, ConsumerHeartbeat r, TopicView topics)
    {
        var now = _now();
        if (r.ServerAssignor is { } wanted && ConsumerGroupAssignors.Find(wanted) is null)
            return new ConsumerHeartbeatResult(KafkaErrorCode.UnsupportedAssignor, $"ServerAssignor {wanted} is not supported. Supported assignors: uniform, range.");
        ConsumerGroupMember member;
        if (r.MemberEpoch == 0)
        {
            if (JoinMember(group, r, out var joined) is { } refused) return refused;
            member = joined!;
        }
        else
        {
            if (!group.Members.TryGetValue(r.MemberId, out var known) || known.MemberEpoch == ConsumerGroupMember.StaticLeaveEpoch) return UnknownMember(r);
            member = known;
            if (FencedEpoch(member, r) is { } fenced) return fenced;
        }

        member.ClientId = r.ClientId;
        member.ClientHost = r.ClientHost;
        if (r.RackId is not null) member.RackId = r.RackId;
        if (r.RebalanceTimeoutMs != -1) member.RebalanceTimeoutMs = r.RebalanceTimeoutMs;
        var changed = false;
        if (r.SubscribedTopicNames is { } names && !names.SequenceEqual(member.SubscribedTopicNames))
        {
            member.SubscribedTopicNames = [.. names];
            changed = true;
        }
        if (r.SubscribedTopicRegex is { } regex && (regex.Length == 0 ? null : regex) != member.SubscribedTopicRegex)
        {
            member.SubscribedTopicRegex = regex.Length == 0 ? null : regex;
            changed = true;
        }
        if (r.ServerAssignor is { } assignor && assignor != member.ServerAssignor)
        {
            member.ServerAssignor = assignor;
            changed = true;
        }
        // The subscribed topics as they are now: a new subscription, a topic created or grown
        // since, changes what the assignor must spread.
        var metadata = ResolveSubscriptions(group, topics, out var partitionCounts);
        if (changed || metadata != group.SubscriptionMetadata)
        {
            group.SubscriptionMetadata = metadata;
            group.GroupEpoch++;
        }
        if (group.GroupEpoch > group.AssignmentEpoch) ComputeTargetAssignment(group, partitionCounts);

        var before = member.Assigned;
        ConsumerGroupReconciliation.Reconcile(group, member, r.OwnedPartitions, now);
        member.LastSeenMs = now;
        // Kafka sends the assignment on a full request (joining, or every field set after an
        // error) and whenever it changed; otherwise null, "unchanged".
        var full = r.MemberEpoch == 0 || (r.RebalanceTimeoutMs != -1 && r.SubscribedTopicNames is not null && r.OwnedPartitions is not null);
        IReadOnlyList<TopicPartitionKey>? assignment = full || !before.SetEquals(member.Assigned) ? [.. member.Assigned] : null;
        return new ConsumerHeartbeatResult(KafkaErrorCode.None, null, member.MemberId, member.MemberEpoch, Options.ConsumerHeartbeatIntervalMs, assignment);
    }

    /// <summary>
    /// Epoch 0: a new member, a member rejoining after it was fenced (starting over), or a static
    /// member's successor taking over the assignment of the one that left with epoch -2.
    /// </summary>
    private ConsumerHeartbeatResult? JoinMember(ConsumerGroup group, ConsumerHeartbeat r, out ConsumerGroupMember? joined)
    {
        joined = null;
        var memberId = r.MemberId.Length > 0 ? r.MemberId : Guid.NewGuid().ToString("D");
        if (group.Members.TryGetValue(memberId, out var existing) && existing.InstanceId is null) group.Remove(existing);
        ConsumerGroupMember? predecessor = null;
        if (r.InstanceId is not null && group.StaticMembers.TryGetValue(r.InstanceId, out var holderId) && group.Members.TryGetValue(holderId, out var holder))
        {
            if (holder.MemberEpoch != ConsumerGroupMember.StaticLeaveEpoch && holderId != memberId)
                return new ConsumerHeartbeatResult(KafkaErrorCode.UnreleasedInstanceId, $"Static member {r.InstanceId} is still held by member {holderId}.");
            predecessor = holder;
        }
        if (predecessor is null && group.Members.Count >= Options.MaxGroupSize)
            return new ConsumerHeartbeatResult(KafkaErrorCode.GroupMaxSizeReached, $"The consumer group has reached its maximum capacity of {Options.MaxGroupSize} members.");
        var member = new ConsumerGroupMember { MemberId = memberId, InstanceId = r.InstanceId, RebalanceTimeoutMs = r.RebalanceTimeoutMs };
        if (predecessor is not null)
        {
            group.Members.Remove(predecessor.MemberId);
            member.MemberEpoch = predecessor.MemberEpoch == ConsumerGroupMember.StaticLeaveEpoch ? predecessor.PreviousMemberEpoch : predecessor.MemberEpoch;
            member.Assigned = predecessor.Assigned;
            member.PendingRevocation = predecessor.PendingRevocation;
            member.Reconciliation = predecessor.Reconciliation;
            member.SubscribedTopicNames = predecessor.SubscribedTopicNames;
            member.SubscribedTopicRegex = predecessor.SubscribedTopicRegex;
            member.ServerAssignor = predecessor.ServerAssignor;
            foreach (var p in member.Assigned) group.Owners[p] = memberId;
            foreach (var p in member.PendingRevocation) group.Owners[p] = memberId;
            if (group.TargetAssignment.Remove(predecessor.MemberId, out var target)) group.TargetAssignment[memberId] = target;
        }
        else
        {
            group.GroupEpoch++;
        }
        if (r.InstanceId is not null) group.StaticMembers[r.InstanceId] = memberId;
        group.Members[memberId] = member;
        joined = member;
        return null;
    }

    /// <summary>
    /// Kafka's throwIfMemberEpochIsInvalid: a greater epoch than ours, or a smaller one, is fenced,
    /// except the previous epoch with owned partitions within the current assignment (the response
    /// that moved it on was lost).
    /// </summary>
    private static ConsumerHeartbeatResult? FencedEpoch(ConsumerGroupMember member, ConsumerHeartbeat r)
    {
        if (r.MemberEpoch > member.MemberEpoch)
            return new ConsumerHeartbeatResult(KafkaErrorCode.FencedMemberEpoch,
                $"The consumer group member has a greater member epoch ({r.MemberEpoch}) than the one known by the group coordinator ({member.MemberEpoch}). The member must abandon all its partitions and rejoin.");
        if (r.MemberEpoch < member.MemberEpoch
            && (r.MemberEpoch != member.PreviousMemberEpoch || r.OwnedPartitions is null || !r.OwnedPartitions.All(member.Assigned.Contains)))
            return new ConsumerHeartbeatResult(KafkaErrorCode.FencedMemberEpoch,
                $"The consumer group member has a smaller member epoch ({r.MemberEpoch}) than the one known by the group coordinator ({member.MemberEpoch}). The member must abandon all its partitions and rejoin.");
        return null;
    }

    /// <summary>Resolves every member's names and regular expression against the topics that exist; returns a fingerprint of the subscribed topics' partition counts.</summary>
    private static string ResolveSubscriptions(ConsumerGroup group, TopicView topics, out Dictionary<string, int> partitionCounts)
    {
        partitionCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        List<string>? allNames = null;
        foreach (var m in group.Members.Values)
        {
            var resolved = new List<string>();
            foreach (var name in m.SubscribedTopicNames)
            {
                var count = partitionCounts.TryGetValue(name, out var known) ? known : topics.PartitionCount(name);
                if (count <= 0) continue;
                partitionCounts[name] = count;
                resolved.Add(name);
            }
            if (m.SubscribedTopicRegex is { } pattern)
            {
                allNames ??= [.. topics.Names()];
                var regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                foreach (var name in allNames)
                {
                    if (resolved.Contains(name) || !regex.IsMatch(name)) continue;
                    var count = partitionCounts.TryGetValue(name, out var known) ? known : topics.PartitionCount(name);
                    if (count <= 0) continue;
                    partitionCounts[name] = count;
                    resolved.Add(name);
                }
            }
            m.ResolvedTopics = resolved;
        }
        return string.Join(',', partitionCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value}"));
    }

    /// <summary>
    /// Runs the assignor the most members ask for (ties and no preference: the first configured,
    /// "uniform") and makes its result the target of the current group epoch. Stickiness starts
    /// from the previous target, so members converge on it even while they reconcile.
    /// </summary>
    private static void ComputeTargetAssignment(ConsumerGroup group, Dictionary<string, int> partitionCounts)
    {
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in group.Members.Values)
            if (m.ServerAssignor is { } name) votes[name] = votes.GetValueOrDefault(name) + 1;
        var assignor = ConsumerGroupAssignors.All[0];
        var best = 0;
        foreach (var a in ConsumerGroupAssignors.All)
        {
            if (votes.GetValueOrDefault(a.Name) <= best) continue;
            best = votes[a.Name];
            assignor = a;
        }
        var members = new List<AssignorMember>(group.Members.Count);
        foreach (var m in group.Members.Values)
        {
            var current = group.TargetAssignment.GetValueOrDefault(m.MemberId) ?? m.Assigned;
            members.Add(new AssignorMember(m.MemberId, new HashSet<string>(m.ResolvedTopics, StringComparer.Ordinal), current));
        }
        var target = assignor.Assign(members, partitionCounts);
        group.TargetAssignment.Clear();
        foreach (var (memberId, partitions) in target) group.TargetAssignment[memberId] = partitions;
        group.AssignorName = assignor.Name;
        group.AssignmentEpoch = group.GroupEpoch;
    }

    /// <summary>
    /// Session timeouts of consumer-protocol members: a member that has not heartbeaten within
    /// group.consumer.session.timeout.ms, or has not revoked what it was told to within its
    /// rebalance timeout, is removed and its partitions freed for the others. An empty group
    /// without offsets is dropped.
    /// </summary>
    private void TickConsumerGroup(string id, ClassicGroup record, ConsumerGroup group, long now)
    {
        List<ConsumerGroupMember>? expired = null;
        foreach (var m in group.Members.Values)
        {
            if (now - m.LastSeenMs > Options.ConsumerSessionTimeoutMs
                || (m.Reconciliation == MemberReconciliation.UnrevokedPartitions && now > m.RevocationDeadlineMs && m.MemberEpoch != ConsumerGroupMember.StaticLeaveEpoch))
                (expired ??= []).Add(m);
        }
        foreach (var m in expired ?? []) group.Remove(m);
        if (group.Members.Count == 0 && record.Offsets.Count == 0)
        {
            record.State = GroupState.Dead;
            _groups.TryRemove(new KeyValuePair<string, ClassicGroup>(id, record));
        }
    }

    /// <summary>
    /// A classic JoinGroup for a group id in use by the consumer protocol is refused
    /// (INCONSISTENT_GROUP_PROTOCOL, as Kafka without online migration); an empty consumer group
    /// turns back into a classic one with its offsets.
    /// </summary>
    private static KafkaErrorCode? JoinIntoConsumerGroup(ClassicGroup record)
    {
        if (record.Consumer is not { } group) return null;
        if (group.Members.Count > 0) return KafkaErrorCode.InconsistentGroupProtocol;
        record.Consumer = null;
        return null;
    }

    /// <summary>
    /// Kafka's ConsumerGroup.validateOffsetCommit: epoch -1 from outside the group only while it has
    /// no members; otherwise a known member (UNKNOWN_MEMBER_ID) with OffsetCommit v9+ (the member
    /// epoch travels in the generation field) and its current epoch. A commit with an older epoch
    /// is still accepted for partitions the member holds now: the epoch moved on while
    /// the commit was in flight, but no one else can have been given those partitions.
    /// Anything else is STALE_MEMBER_EPOCH.
    /// </summary>
    private static KafkaErrorCode? ValidateConsumerGroupCommit(ConsumerGroup group, int memberEpoch, string memberId, short version,
        IReadOnlyList<(string Topic, int Partition, StoredOffset Offset)> offsets)
    {
        if (memberEpoch < 0 && group.Members.Count == 0) return null;
        if (!group.Members.TryGetValue(memberId, out var member)) return KafkaErrorCode.UnknownMemberId;
        if (version < 9) return KafkaErrorCode.UnsupportedVersion;
        if (memberEpoch == member.MemberEpoch) return null;
        if (memberEpoch > member.MemberEpoch || memberEpoch < 0) return KafkaErrorCode.StaleMemberEpoch;
        foreach (var (topic, partition, _) in offsets)
        {
            var p = new TopicPartitionKey(topic, partition);
            if (!member.Assigned.Contains(p) && !member.PendingRevocation.Contains(p)) return KafkaErrorCode.StaleMemberEpoch;
        }
        return null;
    }

    /// <summary>
    /// OffsetFetch v9 of a consumer group with a member id or epoch (Kafka's validateOffsetFetch):
    /// the member must be known (UNKNOWN_MEMBER_ID) at its current or previous epoch
    /// (STALE_MEMBER_EPOCH); reading offsets with the epoch an in-flight heartbeat just moved on
    /// does no harm. Classic groups and admin reads pass.
    /// </summary>
    public KafkaErrorCode ValidateOffsetFetch(string groupId, string? memberId, int memberEpoch)
    {
        if (memberId is null && memberEpoch < 0) return KafkaErrorCode.None;
        var record = _groups.GetValueOrDefault(groupId);
        if (record is null) return KafkaErrorCode.None;
        lock (record.Sync)
        {
            if (record.Consumer is not { } group) return KafkaErrorCode.None;
            if (memberId is null || !group.Members.TryGetValue(memberId, out var member)) return KafkaErrorCode.UnknownMemberId;
            return memberEpoch == member.MemberEpoch || memberEpoch == member.PreviousMemberEpoch ? KafkaErrorCode.None : KafkaErrorCode.StaleMemberEpoch;
        }
    }

    /// <summary>ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for an unknown group and for a classic one.</summary>
    public ConsumerGroupDescription DescribeConsumerGroup(string groupId)
    {
        var record = _groups.GetValueOrDefault(groupId);
        if (record is null) return new ConsumerGroupDescription(KafkaErrorCode.GroupIdNotFound, $"Group {groupId} not found.", groupId);
        lock (record.Sync)
        {
            if (record.State == GroupState.Dead) return new ConsumerGroupDescription(KafkaErrorCode.GroupIdNotFound, $"Group {groupId} not found.", groupId);
            if (record.Consumer is not { } group)
                return new ConsumerGroupDescription(KafkaErrorCode.GroupIdNotFound, $"Group {groupId} is not a consumer group.", groupId);
            var members = new List<ConsumerMemberDescription>(group.Members.Count);
            foreach (var m in group.Members.Values)
            {
                members.Add(new ConsumerMemberDescription(m.MemberId, m.InstanceId, m.RackId, m.MemberEpoch, m.ClientId, m.ClientHost,
                    m.SubscribedTopicNames, m.SubscribedTopicRegex, Sorted(m.Assigned), Sorted(group.TargetAssignment.GetValueOrDefault(m.MemberId) ?? [])));
            }
            return new ConsumerGroupDescription(KafkaErrorCode.None, null, groupId, group.State.ToString(), group.GroupEpoch, group.AssignmentEpoch,
                group.AssignorName, members);
        }
    }

    private static List<TopicPartitionKey> Sorted(IEnumerable<TopicPartitionKey> partitions) =>
        [.. partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition)];

    /// <summary>
    /// A consumer-protocol group in ListGroups and DescribeGroups terms: protocol type "consumer",
    /// the assignor as protocol, and each member's assignment encoded as the classic
    /// ConsumerProtocolAssignment, so tools written for DescribeGroups show its partitions.
    /// </summary>
    private static GroupSummary SummarizeConsumerGroup(string groupId, ConsumerGroup group, bool withMembers)
    {
        var members = new List<MemberSummary>();
        if (withMembers)
        {
            foreach (var m in group.Members.Values)
                members.Add(new MemberSummary(m.MemberId, m.InstanceId, m.ClientId, m.ClientHost, [], EncodeAssignment(m.Assigned)));
        }
        return new GroupSummary(groupId, GroupState.Empty, ConsumerProtocolType, group.AssignorName, members, "consumer", group.State.ToString());
    }

    private const string ConsumerProtocolType = "consumer";

    private static byte[] EncodeAssignment(IEnumerable<TopicPartitionKey> partitions)
    {
        var assignment = new ConsumerProtocolAssignment();
        foreach (var byTopic in partitions.GroupBy(p => p.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            assignment.AssignedPartitions.Add(new ConsumerProtocolAssignment.TopicPartition { Topic = byTopic.Key, Partitions = [.. byTopic.Select(p => p.Partition).Order()] });
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(0);
        assignment.Write(ref writer, 0);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
