using System.Collections.Concurrent;
using EdgeStream.Kafka.Server;

namespace EdgeStream.Kafka.Groups;

/// <summary>Limits of the group coordinator (Kafka's group.* broker settings).</summary>
public sealed class GroupCoordinatorOptions
{
    /// <summary>group.min.session.timeout.ms. Kafka's default is 6 s; an edge node accepts down to 1 s so that crashed consumers on a LAN are replaced quickly.</summary>
    public int MinSessionTimeoutMs { get; init; } = 1_000;
    /// <summary>group.max.session.timeout.ms (Kafka: 30 min).</summary>
    public int MaxSessionTimeoutMs { get; init; } = 30 * 60 * 1000;
    /// <summary>group.max.size: members per group; more get GROUP_MAX_SIZE_REACHED.</summary>
    public int MaxGroupSize { get; init; } = 1000;
    /// <summary>offset.metadata.max.bytes: longer commit metadata gets OFFSET_METADATA_TOO_LARGE.</summary>
    public int MaxOffsetMetadataLength { get; init; } = 4096;
    /// <summary>group.consumer.session.timeout.ms: a consumer-protocol member silent this long is removed and its partitions reassigned.</summary>
    public int ConsumerSessionTimeoutMs { get; init; } = 45_000;
    /// <summary>group.consumer.heartbeat.interval.ms: how often consumer-protocol members are told to heartbeat.</summary>
    public int ConsumerHeartbeatIntervalMs { get; init; } = 5_000;

    public void Validate()
    {
        if (MinSessionTimeoutMs < 1 || MaxSessionTimeoutMs < MinSessionTimeoutMs)
            throw new ConfigurationException("Group session timeout limits must satisfy 0 < min <= max.");
        if (MaxGroupSize < 1) throw new ConfigurationException("Group max size must be at least 1.");
        if (ConsumerHeartbeatIntervalMs < 1 || ConsumerSessionTimeoutMs <= ConsumerHeartbeatIntervalMs)
            throw new ConfigurationException("The consumer group heartbeat interval must be positive and shorter than the session timeout.");
    }
}

/// <summary>What a JoinGroup asks for, decoupled from the message version that carried it.</summary>
public sealed record JoinRequest(string GroupId, string MemberId, string? InstanceId, string ClientId, string ClientHost,
    int SessionTimeoutMs, int RebalanceTimeoutMs, string ProtocolType, IReadOnlyList<MemberProtocol> Protocols, bool RequireKnownMemberId);

/// <summary>A group as ListGroups/DescribeGroups report it.</summary>
/// <param name="Type">"classic" or "consumer" (KIP-848), as ListGroups v5 reports it.</param>
/// <param name="StateName">The state of a consumer-protocol group, whose states are not <see cref="GroupState"/>'s; null for a classic group.</param>
public sealed record GroupSummary(string GroupId, GroupState State, string ProtocolType, string ProtocolName, IReadOnlyList<MemberSummary> Members,
    string Type = "classic", string? StateName = null)
{
    public string StateText => StateName ?? ClassicGroup.StateName(State);
}

public sealed record MemberSummary(string MemberId, string? InstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

/// <summary>
/// The classic group coordinator (Kafka's GroupCoordinator / ClassicGroup): this node coordinates
/// every group. Each group is a small state machine guarded by its own lock; JoinGroup and
/// SyncGroup return tasks that complete when the rebalance step they wait for does. Session and
/// rebalance timeouts are enforced by <see cref="Tick"/>, which a background service calls
/// periodically so that crashed members go even when no request arrives.
/// Membership is kept in memory only: after a restart every group starts Empty with its committed
/// offsets, and clients rejoin (what Kafka does after a coordinator fail-over).
/// </summary>
public sealed partial class GroupCoordinator
{
    private readonly ConcurrentDictionary<string, ClassicGroup> _groups = new(StringComparer.Ordinal);
    private readonly OffsetStore _store;
    private readonly Func<long> _now;

    public GroupCoordinator(GroupCoordinatorOptions options, OffsetStore store, Func<long>? clock = null)
    {
        options.Validate();
        Options = options;
        _store = store;
        _now = clock ?? (() => Environment.TickCount64);
        foreach (var (groupId, offsets) in store.LoadAll())
        {
            var group = new ClassicGroup(groupId);
            foreach (var (k, v) in offsets) group.Offsets[k] = v;
            _groups[groupId] = group;
        }
    }

    public GroupCoordinatorOptions Options { get; }

    // ---- JoinGroup -------------------------------------------------------------------------

    public Task<JoinResult> JoinAsync(JoinRequest r)
    {
        if (r.GroupId.Length == 0) return Task.FromResult(JoinResult.Failed(KafkaErrorCode.InvalidGroupId, r.MemberId));
        if (r.SessionTimeoutMs < Options.MinSessionTimeoutMs || r.SessionTimeoutMs > Options.MaxSessionTimeoutMs)
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.InvalidSessionTimeout, r.MemberId));
        var isUnknown = r.MemberId.Length == 0;
        while (true)
        {
            // Kafka creates the group only for a member without an id; a member id for a group
            // that does not exist is UNKNOWN_MEMBER_ID (the client then rejoins without one).
            var group = isUnknown ? _groups.GetOrAdd(r.GroupId, static id => new ClassicGroup(id)) : _groups.GetValueOrDefault(r.GroupId);
            if (group is null) return Task.FromResult(JoinResult.Failed(KafkaErrorCode.UnknownMemberId, r.MemberId));
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue; // deleted meanwhile: look it up again
                if (JoinIntoConsumerGroup(group) is { } refused) return Task.FromResult(JoinResult.Failed(refused, r.MemberId));
                return isUnknown ? JoinUnknownMember(group, r) : JoinKnownMember(group, r);
            }
        }
    }

    private Task<JoinResult> JoinUnknownMember(ClassicGroup group, JoinRequest r)
    {
        if (!group.SupportsProtocols(r.ProtocolType, r.Protocols))
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.InconsistentGroupProtocol));
        var newId = (r.InstanceId ?? r.ClientId) + "-" + Guid.NewGuid().ToString("D");
        if (r.InstanceId is not null && group.StaticMembers.TryGetValue(r.InstanceId, out var oldId) && group.Find(oldId) is { } old)
            return ReplaceStaticMember(group, old, newId, r);
        if (group.Members.Count + group.PendingMembers.Count >= Options.MaxGroupSize)
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.GroupMaxSizeReached));
        if (r.InstanceId is null && r.RequireKnownMemberId)
        {
            // KIP-394 (JoinGroup v4+): "the first join of a member without an id is answered with
            // MEMBER_ID_REQUIRED and the id it must use"; it becomes a member when it rejoins with it.
            group.PendingMembers[newId] = _now() + r.SessionTimeoutMs;
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.MemberIdRequired, newId));
        }
        return AddMemberAndRebalance(group, newId, r);
    }

    private Task<JoinResult> JoinKnownMember(ClassicGroup group, JoinRequest r)
    {
        if (group.PendingMembers.Remove(r.MemberId))
        {
            if (!group.SupportsProtocols(r.ProtocolType, r.Protocols))
                return Task.FromResult(JoinResult.Failed(KafkaErrorCode.InconsistentGroupProtocol, r.MemberId));
            return AddMemberAndRebalance(group, r.MemberId, r);
        }
        if (Fenced(group, r.MemberId, r.InstanceId) is { } fenced) return Task.FromResult(JoinResult.Failed(fenced, r.MemberId));
        var member = group.Find(r.MemberId);
        if (member is null || group.State is GroupState.Empty or GroupState.Dead)
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.UnknownMemberId, r.MemberId));
        if (!group.SupportsProtocols(r.ProtocolType, r.Protocols, except: member))
            return Task.FromResult(JoinResult.Failed(KafkaErrorCode.InconsistentGroupProtocol, r.MemberId));
        member.LastSeenMs = _now();
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                UpdateMember(member, r);
                var held = AwaitJoin(member);
                TryCompleteJoin(group);
                return held;
            case GroupState.CompletingRebalance:
                // "if the member's protocols did not change, it simply missed the JoinGroup
                // response: send it again"; otherwise the group must rebalance.
                if (member.SameProtocols(r.Protocols)) return Task.FromResult(CurrentJoinResult(group, member));
                break;
            case GroupState.Stable:
                // "a follower that rejoins with unchanged metadata gets the current generation; the
                // leader rejoining, or changed metadata, starts a rebalance".
                if (member.MemberId != group.LeaderId && member.SameProtocols(r.Protocols))
                    return Task.FromResult(CurrentJoinResult(group, member));
                break;
        }
        UpdateMember(member, r);
        var task = AwaitJoin(member);
        PrepareRebalance(group);
        return task;
    }

    /// <summary>
    /// KIP-345: a static member rejoining without its member id replaces the old member. The old
    /// id's held requests get FENCED_INSTANCE_ID. In Stable with unchanged metadata the group keeps
    /// its generation and assignment (no rebalance); otherwise it rebalances.
    /// </summary>
    private Task<JoinResult> ReplaceStaticMember(ClassicGroup group, GroupMemberState old, string newId, JoinRequest r)
    {
        old.PendingJoin?.TrySetResult(JoinResult.Failed(KafkaErrorCode.FencedInstanceId, old.MemberId));
        old.PendingSync?.TrySetResult(SyncResult.Failed(KafkaErrorCode.FencedInstanceId));
        var replacement = new GroupMemberState
        {
            MemberId = newId,
            InstanceId = r.InstanceId,
            Assignment = old.Assignment,
            Synced = old.Synced,
            LastSeenMs = _now(),
        };
        UpdateMember(replacement, r);
        var index = group.Members.IndexOf(old);
        group.Members[index] = replacement;
        group.StaticMembers[r.InstanceId!] = newId;
        if (group.LeaderId == old.MemberId) group.LeaderId = newId;

        var oldMetadata = old.MetadataFor(group.ProtocolName);
        var newMetadata = replacement.MetadataFor(group.ProtocolName);
        if (group.State == GroupState.Stable && oldMetadata is not null && newMetadata is not null && oldMetadata.AsSpan().SequenceEqual(newMetadata))
        {
            // KIP-814: the leader gets the members but is told to skip the assignment.
            var isLeader = group.LeaderId == newId;
            return Task.FromResult(new JoinResult(KafkaErrorCode.None, newId, group.GenerationId, group.ProtocolType, group.ProtocolName,
                group.LeaderId ?? "", isLeader, isLeader ? group.MemberMetadata() : []));
        }
        var task = AwaitJoin(replacement);
        if (group.State == GroupState.PreparingRebalance) TryCompleteJoin(group);
        else PrepareRebalance(group);
        return task;
    }

    private Task<JoinResult> AddMemberAndRebalance(ClassicGroup group, string memberId, JoinRequest r)
    {
        var member = new GroupMemberState { MemberId = memberId, InstanceId = r.InstanceId, LastSeenMs = _now() };
        UpdateMember(member, r);
        if (group.Members.Count == 0) group.ProtocolType = r.ProtocolType;
        group.Members.Add(member);
        if (r.InstanceId is not null) group.StaticMembers[r.InstanceId] = memberId;
        group.LeaderId ??= memberId;
        var task = AwaitJoin(member);
        if (group.State == GroupState.PreparingRebalance) TryCompleteJoin(group);
        else PrepareRebalance(group);
        return task;
    }

    private static void UpdateMember(GroupMemberState member, JoinRequest r)
    {
        member.ClientId = r.ClientId;
        member.ClientHost = r.ClientHost;
        member.SessionTimeoutMs = r.SessionTimeoutMs;
        member.RebalanceTimeoutMs = r.RebalanceTimeoutMs > 0 ? r.RebalanceTimeoutMs : r.SessionTimeoutMs;
        member.ProtocolType = r.ProtocolType;
        member.Protocols = r.Protocols;
    }

    private static Task<JoinResult> AwaitJoin(GroupMemberState member)
    {
        // A second JoinGroup from the same member replaces the first; the first is answered so the
        // client is not left waiting on a request nobody completes.
        member.PendingJoin?.TrySetResult(JoinResult.Failed(KafkaErrorCode.RebalanceInProgress, member.MemberId));
        member.PendingJoin = new TaskCompletionSource<JoinResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        return member.PendingJoin.Task;
    }

    private static JoinResult CurrentJoinResult(ClassicGroup group, GroupMemberState member)
    {
        var isLeader = member.MemberId == group.LeaderId;
        return new JoinResult(KafkaErrorCode.None, member.MemberId, group.GenerationId, group.ProtocolType, group.ProtocolName,
            group.LeaderId ?? "", false, isLeader ? group.MemberMetadata() : []);
    }

    private void PrepareRebalance(ClassicGroup group)
    {
        if (group.State == GroupState.CompletingRebalance)
        {
            // Assignments of the interrupted generation are void; held SyncGroups learn it now.
            foreach (var m in group.Members)
            {
                m.Assignment = [];
                m.PendingSync?.TrySetResult(SyncResult.Failed(KafkaErrorCode.RebalanceInProgress));
                m.PendingSync = null;
            }
        }
        group.State = GroupState.PreparingRebalance;
        group.RebalanceDeadlineMs = _now() + group.MaxRebalanceTimeoutMs();
        TryCompleteJoin(group);
    }

    /// <summary>Completes the join phase once every known member rejoined and no MEMBER_ID_REQUIRED member is outstanding.</summary>
    private void TryCompleteJoin(ClassicGroup group)
    {
        if (group.State != GroupState.PreparingRebalance || group.PendingMembers.Count > 0) return;
        foreach (var m in group.Members)
            if (m.PendingJoin is null) return;
        CompleteJoin(group);
    }

    /// <summary>
    /// Ends PreparingRebalance: "members that have not rejoined by the rebalance timeout are
    /// removed", the generation advances, a protocol is selected and every held JoinGroup is
    /// answered (the leader with all members' metadata).
    /// </summary>
    private void CompleteJoin(ClassicGroup group)
    {
        for (var i = group.Members.Count - 1; i >= 0; i--)
            if (group.Members[i].PendingJoin is null) RemoveMember(group, group.Members[i]);
        group.PendingMembers.Clear();
        group.GenerationId++;
        if (group.Members.Count == 0)
        {
            group.State = GroupState.Empty;
            group.ProtocolName = null;
            group.LeaderId = null;
            return;
        }
        group.ProtocolName = group.SelectProtocol();
        if (group.LeaderId is null || group.Find(group.LeaderId) is null) group.LeaderId = group.Members[0].MemberId;
        group.State = GroupState.CompletingRebalance;
        group.SyncDeadlineMs = _now() + group.MaxRebalanceTimeoutMs();
        var metadata = group.MemberMetadata();
        var now = _now();
        foreach (var m in group.Members)
        {
            m.Synced = false;
            m.Assignment = [];
            m.LastSeenMs = now;
            var isLeader = m.MemberId == group.LeaderId;
            var result = new JoinResult(KafkaErrorCode.None, m.MemberId, group.GenerationId, group.ProtocolType, group.ProtocolName,
                group.LeaderId, false, isLeader ? metadata : []);
            var pending = m.PendingJoin;
            m.PendingJoin = null;
            pending?.TrySetResult(result);
        }
    }

    private static void RemoveMember(ClassicGroup group, GroupMemberState member)
    {
        group.Members.Remove(member);
        if (member.InstanceId is not null && group.StaticMembers.TryGetValue(member.InstanceId, out var id) && id == member.MemberId)
            group.StaticMembers.Remove(member.InstanceId);
        member.PendingJoin?.TrySetResult(JoinResult.Failed(KafkaErrorCode.UnknownMemberId, member.MemberId));
        member.PendingJoin = null;
        member.PendingSync?.TrySetResult(SyncResult.Failed(KafkaErrorCode.UnknownMemberId));
        member.PendingSync = null;
        if (group.LeaderId == member.MemberId) group.LeaderId = group.Members.Count > 0 ? group.Members[0].MemberId : null;
    }

    /// <summary>After members left or expired: Stable/CompletingRebalance rebalance; PreparingRebalance may now be complete.</summary>
    private void OnMembersRemoved(ClassicGroup group)
    {
        switch (group.State)
        {
            case GroupState.Stable:
            case GroupState.CompletingRebalance:
                PrepareRebalance(group);
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group);
                break;
        }
    }

    /// <summary>KIP-345 fencing: a known instance id held by another member id is FENCED_INSTANCE_ID.</summary>
    private static KafkaErrorCode? Fenced(ClassicGroup group, string memberId, string? instanceId)
    {
        if (instanceId is null) return null;
        if (!group.StaticMembers.TryGetValue(instanceId, out var holder)) return null;
        return holder == memberId ? null : KafkaErrorCode.FencedInstanceId;
    }

    /// <summary>Kafka's validateMember: with an instance id it must be known and held by this member id; else the member id must be known.</summary>
    private static KafkaErrorCode? ValidateMember(ClassicGroup group, string memberId, string? instanceId)
    {
        if (instanceId is not null)
        {
            if (!group.StaticMembers.TryGetValue(instanceId, out var holder)) return KafkaErrorCode.UnknownMemberId;
            return holder == memberId ? null : KafkaErrorCode.FencedInstanceId;
        }
        return group.Find(memberId) is null ? KafkaErrorCode.UnknownMemberId : null;
    }

    // ---- SyncGroup / Heartbeat / LeaveGroup ------------------------------------------------

    public Task<SyncResult> SyncAsync(string groupId, int generationId, string memberId, string? instanceId,
        string? protocolType, string? protocolName, IReadOnlyDictionary<string, byte[]> assignments)
    {
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return Task.FromResult(SyncResult.Failed(KafkaErrorCode.UnknownMemberId));
        lock (group.Sync)
        {
            if (group.State == GroupState.Dead) return Task.FromResult(SyncResult.Failed(KafkaErrorCode.UnknownMemberId));
            if (ValidateMember(group, memberId, instanceId) is { } invalid) return Task.FromResult(SyncResult.Failed(invalid));
            if (generationId != group.GenerationId) return Task.FromResult(SyncResult.Failed(KafkaErrorCode.IllegalGeneration));
            // SyncGroup v5: "protocol type and name, when given, must match the group's".
            if ((protocolType is not null && protocolType != group.ProtocolType) || (protocolName is not null && protocolName != group.ProtocolName))
                return Task.FromResult(SyncResult.Failed(KafkaErrorCode.InconsistentGroupProtocol));
            var member = group.Find(memberId)!;
            member.LastSeenMs = _now();
            switch (group.State)
            {
                case GroupState.Empty:
                    return Task.FromResult(SyncResult.Failed(KafkaErrorCode.UnknownMemberId));
                case GroupState.PreparingRebalance:
                    return Task.FromResult(SyncResult.Failed(KafkaErrorCode.RebalanceInProgress));
                case GroupState.CompletingRebalance:
                    member.PendingSync?.TrySetResult(SyncResult.Failed(KafkaErrorCode.RebalanceInProgress));
                    member.PendingSync = new TaskCompletionSource<SyncResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                    member.Synced = true;
                    var task = member.PendingSync.Task;
                    if (memberId == group.LeaderId)
                    {
                        // The leader's assignments are opaque bytes for each member; a member the
                        // leader left out gets an empty assignment.
                        foreach (var m in group.Members)
                            m.Assignment = assignments.TryGetValue(m.MemberId, out var a) ? a : [];
                        group.State = GroupState.Stable;
                        foreach (var m in group.Members)
                        {
                            var pending = m.PendingSync;
                            m.PendingSync = null;
                            pending?.TrySetResult(new SyncResult(KafkaErrorCode.None, group.ProtocolType, group.ProtocolName, m.Assignment));
                        }
                    }
                    return task;
                default: // Stable: the assignment of the current generation
                    member.Synced = true;
                    return Task.FromResult(new SyncResult(KafkaErrorCode.None, group.ProtocolType, group.ProtocolName, member.Assignment));
            }
        }
    }

    public KafkaErrorCode Heartbeat(string groupId, int generationId, string memberId, string? instanceId)
    {
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return KafkaErrorCode.UnknownMemberId;
        lock (group.Sync)
        {
            if (group.State is GroupState.Dead or GroupState.Empty) return KafkaErrorCode.UnknownMemberId;
            if (ValidateMember(group, memberId, instanceId) is { } invalid) return invalid;
            if (generationId != group.GenerationId) return KafkaErrorCode.IllegalGeneration;
            group.Find(memberId)!.LastSeenMs = _now();
            // "PreparingRebalance: REBALANCE_IN_PROGRESS tells the member to rejoin";
            // CompletingRebalance and Stable: NONE.
            return group.State == GroupState.PreparingRebalance ? KafkaErrorCode.RebalanceInProgress : KafkaErrorCode.None;
        }
    }

    /// <summary>Removes the given members (LeaveGroup v3+ batches them); one error per member.</summary>
    public IReadOnlyList<KafkaErrorCode> Leave(string groupId, IReadOnlyList<(string MemberId, string? InstanceId)> leaving)
    {
        var errors = new KafkaErrorCode[leaving.Count];
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null)
        {
            Array.Fill(errors, KafkaErrorCode.UnknownMemberId);
            return errors;
        }
        lock (group.Sync)
        {
            var removed = false;
            for (var i = 0; i < leaving.Count; i++)
            {
                var (memberId, instanceId) = leaving[i];
                GroupMemberState? member;
                if (instanceId is not null)
                {
                    // KIP-345: "an instance id with an unknown member id leaves whatever member holds it".
                    if (!group.StaticMembers.TryGetValue(instanceId, out var holder)) { errors[i] = KafkaErrorCode.UnknownMemberId; continue; }
                    if (memberId.Length > 0 && memberId != holder) { errors[i] = KafkaErrorCode.FencedInstanceId; continue; }
                    member = group.Find(holder);
                }
                else if (group.PendingMembers.Remove(memberId))
                {
                    removed = true;
                    continue;
                }
                else member = group.Find(memberId);
                if (member is null) { errors[i] = KafkaErrorCode.UnknownMemberId; continue; }
                RemoveMember(group, member);
                removed = true;
            }
            if (removed) OnMembersRemoved(group);
        }
        return errors;
    }

    // ---- timeouts --------------------------------------------------------------------------

    /// <summary>
    /// Enforces the clocks: members whose session timeout passed without a request are removed
    /// (a held JoinGroup or SyncGroup keeps a member alive, as in Kafka); a rebalance whose timeout
    /// passed completes without the members that did not rejoin; a CompletingRebalance whose
    /// timeout passed drops the members that never sent SyncGroup; an Empty group with no offsets
    /// is dropped.
    /// </summary>
    public void Tick()
    {
        var now = _now();
        foreach (var (id, group) in _groups)
        {
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue;
                if (group.Consumer is { } consumerGroup)
                {
                    TickConsumerGroup(id, group, consumerGroup, now);
                    continue;
                }
                var removed = false;
                List<string>? expiredPending = null;
                foreach (var (pendingId, deadline) in group.PendingMembers)
                    if (now >= deadline) (expiredPending ??= []).Add(pendingId);
                if (expiredPending is not null)
                {
                    foreach (var p in expiredPending) group.PendingMembers.Remove(p);
                    removed = true;
                }
                for (var i = group.Members.Count - 1; i >= 0; i--)
                {
                    var m = group.Members[i];
                    if (m.PendingJoin is not null || m.PendingSync is not null) continue;
                    if (now - m.LastSeenMs > m.SessionTimeoutMs)
                    {
                        RemoveMember(group, m);
                        removed = true;
                    }
                }
                if (removed) OnMembersRemoved(group);
                if (group.State == GroupState.PreparingRebalance && now >= group.RebalanceDeadlineMs) CompleteJoin(group);
                if (group.State == GroupState.CompletingRebalance && now >= group.SyncDeadlineMs)
                {
                    var dropped = false;
                    for (var i = group.Members.Count - 1; i >= 0; i--)
                    {
                        if (group.Members[i].Synced) continue;
                        RemoveMember(group, group.Members[i]);
                        dropped = true;
                    }
                    if (dropped) PrepareRebalance(group);
                }
                if (group.State == GroupState.Empty && group.Members.Count == 0 && group.PendingMembers.Count == 0 && group.Offsets.Count == 0)
                {
                    group.State = GroupState.Dead;
                    _groups.TryRemove(new KeyValuePair<string, ClassicGroup>(id, group));
                }
            }
        }
    }

    // ---- offsets ---------------------------------------------------------------------------

    /// <summary>
    /// OffsetCommit: validates the committer as Kafka's ClassicGroup.validateOffsetCommit does,
    /// then stores every accepted partition in one transaction. Returns one error per partition,
    /// in request order.
    /// </summary>
    public IReadOnlyList<KafkaErrorCode> CommitOffsets(string groupId, int generationId, string memberId, string? instanceId, short version,
        IReadOnlyList<(string Topic, int Partition, StoredOffset Offset)> offsets, Func<string, int, bool> partitionExists)
    {
        var errors = new KafkaErrorCode[offsets.Count];
        if (groupId.Length == 0)
        {
            Array.Fill(errors, KafkaErrorCode.InvalidGroupId);
            return errors;
        }
        while (true)
        {
            var group = _groups.GetValueOrDefault(groupId);
            if (group is null)
            {
                if (generationId >= 0)
                {
                    // "Starting from version 9 of the OffsetCommit API, we return GROUP_ID_NOT_FOUND
                    // if the group does not exist. For older version, we return ILLEGAL_GENERATION."
                    Array.Fill(errors, version >= 9 ? KafkaErrorCode.GroupIdNotFound : KafkaErrorCode.IllegalGeneration);
                    return errors;
                }
                // "If the group does not exist and generation id is -1, the request comes from either
                // the admin client or a consumer which does not use the group management facility.
                // In this case, a so-called simple group is created and the request is accepted."
                group = _groups.GetOrAdd(groupId, static id => new ClassicGroup(id));
            }
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue;
                var invalidCommit = group.Consumer is { } consumerGroup
                    ? ValidateConsumerGroupCommit(consumerGroup, generationId, memberId, version, offsets)
                    : ValidateCommit(group, generationId, memberId, instanceId);
                if (invalidCommit is { } invalid)
                {
                    Array.Fill(errors, invalid);
                    return errors;
                }
                var accepted = new List<(string, int, StoredOffset)>(offsets.Count);
                for (var i = 0; i < offsets.Count; i++)
                {
                    var (topic, partition, offset) = offsets[i];
                    if (!partitionExists(topic, partition)) errors[i] = KafkaErrorCode.UnknownTopicOrPartition;
                    else if (offset.Metadata is { Length: var n } && n > Options.MaxOffsetMetadataLength) errors[i] = KafkaErrorCode.OffsetMetadataTooLarge;
                    else accepted.Add(offsets[i]);
                }
                try
                {
                    _store.Commit(groupId, accepted);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    for (var i = 0; i < errors.Length; i++)
                        if (errors[i] == KafkaErrorCode.None) errors[i] = KafkaErrorCode.UnknownServerError;
                    return errors;
                }
                foreach (var (topic, partition, offset) in accepted) group.Offsets[(topic, partition)] = offset;
                if (group.Find(memberId) is { } member) member.LastSeenMs = _now();
                return errors;
            }
        }
    }

    /// <summary>
    /// Makes the offsets of a committed transaction (TxnOffsetCommit, then EndTxn commit) the
    /// group's committed offsets, in one store transaction. The committer was checked when the
    /// offsets were sent; the commit marker decides, whatever the group did since. Throws when the
    /// store fails, so the caller can retry the transaction's completion.
    /// </summary>
    public void CommitTransactionalOffsets(string groupId, IReadOnlyList<(string Topic, int Partition, StoredOffset Offset)> offsets)
    {
        if (offsets.Count == 0) return;
        while (true)
        {
            var group = _groups.GetOrAdd(groupId, static id => new ClassicGroup(id));
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue;
                _store.Commit(groupId, offsets);
                foreach (var (topic, partition, offset) in offsets) group.Offsets[(topic, partition)] = offset;
                return;
            }
        }
    }

    /// <summary>
    /// Kafka's rule for a classic group's offset commit. Generation -1 is a commit from outside group
    /// management (an admin client, a consumer with assign()): allowed while the group is empty. A
    /// v0 request carries neither member nor generation: likewise only into an empty group. Anything
    /// else must come from a current member with the current generation, and is accepted in Stable
    /// and also in PreparingRebalance: the member still owns its partitions until it rejoins, and
    /// this is exactly when a consumer commits its progress (in its revocation callback, or a
    /// synchronous commit racing another member's leave); refusing it loses the commit and the next
    /// owner re-reads, i.e. duplicates. Only CompletingRebalance refuses (REBALANCE_IN_PROGRESS):
    /// the member has joined the new generation but not yet learnt its new assignment from SyncGroup.
    /// </summary>
    private static KafkaErrorCode? ValidateCommit(ClassicGroup group, int generationId, string memberId, string? instanceId)
    {
        if (generationId < 0 && group.State == GroupState.Empty) return null;
        if (generationId >= 0 || memberId.Length > 0 || instanceId is not null)
        {
            if (ValidateMember(group, memberId, instanceId) is { } invalid) return invalid;
            if (generationId != group.GenerationId) return KafkaErrorCode.IllegalGeneration;
        }
        else if (group.State != GroupState.Empty)
        {
            return KafkaErrorCode.UnknownMemberId;
        }
        if (group.State == GroupState.CompletingRebalance) return KafkaErrorCode.RebalanceInProgress;
        return null;
    }

    /// <summary>The committed offsets of a group: the requested partitions, or all of them when <paramref name="partitions"/> is null. Unknown ones are absent.</summary>
    public Dictionary<(string Topic, int Partition), StoredOffset> FetchOffsets(string groupId)
    {
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return [];
        lock (group.Sync) return new Dictionary<(string, int), StoredOffset>(group.Offsets);
    }

    /// <summary>OffsetDelete: top-level error, then one error per partition.</summary>
    public (KafkaErrorCode Error, IReadOnlyList<KafkaErrorCode> Partitions) DeleteOffsets(string groupId, IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        var errors = new KafkaErrorCode[partitions.Count];
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return (KafkaErrorCode.GroupIdNotFound, errors);
        lock (group.Sync)
        {
            if (group.State == GroupState.Dead) return (KafkaErrorCode.GroupIdNotFound, errors);
            HashSet<string>? subscribed = null;
            if (group.Consumer is { } consumerGroup)
            {
                if (consumerGroup.Members.Count > 0) subscribed = consumerGroup.SubscribedTopicNames();
            }
            else if (group.State != GroupState.Empty)
            {
                // "A group that is not empty and does not use the consumer protocol cannot have its
                // offsets deleted (NON_EMPTY_GROUP); a consumer group refuses the topics its members
                // subscribe to (GROUP_SUBSCRIBED_TO_TOPIC)."
                if (group.ProtocolType != "consumer") return (KafkaErrorCode.NonEmptyGroup, errors);
                subscribed = SubscribedTopics(group);
            }
            var delete = new List<(string, int)>();
            for (var i = 0; i < partitions.Count; i++)
            {
                if (subscribed is not null && subscribed.Contains(partitions[i].Topic)) errors[i] = KafkaErrorCode.GroupSubscribedToTopic;
                else if (group.Offsets.ContainsKey(partitions[i])) delete.Add(partitions[i]);
            }
            try
            {
                _store.Delete(groupId, delete);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return (KafkaErrorCode.UnknownServerError, errors);
            }
            foreach (var p in delete) group.Offsets.Remove(p);
            return (KafkaErrorCode.None, errors);
        }
    }

    private static HashSet<string> SubscribedTopics(ClassicGroup group)
    {
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in group.Members)
        {
            if (m.MetadataFor(group.ProtocolName) is not { Length: > 2 } bytes) continue;
            try
            {
                // ConsumerProtocolSubscription: int16 version, then the versioned body.
                var reader = new Protocol.Primitives.KafkaReader(bytes.AsMemory());
                var version = reader.ReadInt16();
                var subscription = new Protocol.Messages.ConsumerProtocolSubscription();
                subscription.Read(ref reader, Math.Min(version, Protocol.Messages.ConsumerProtocolSubscription.HighestSupportedVersion));
                foreach (var t in subscription.Topics) topics.Add(t);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Metadata that does not parse as a subscription names no topic we can protect.
            }
        }
        return topics;
    }

    // ---- admin -----------------------------------------------------------------------------

    public IReadOnlyList<GroupSummary> ListGroups()
    {
        var list = new List<GroupSummary>();
        foreach (var group in _groups.Values)
        {
            lock (group.Sync)
            {
                if (group.State == GroupState.Dead) continue;
                if (group.Consumer is { } consumerGroup)
                {
                    list.Add(SummarizeConsumerGroup(group.GroupId, consumerGroup, withMembers: false));
                    continue;
                }
                list.Add(new GroupSummary(group.GroupId, group.State, group.ProtocolType ?? "", group.ProtocolName ?? "", []));
            }
        }
        list.Sort((a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
        return list;
    }

    /// <summary>
    /// DescribeGroups: an unknown group is reported Dead with no error (Kafka before v6). Member
    /// metadata and assignments are only meaningful, and only returned, in Stable.
    /// </summary>
    public GroupSummary DescribeGroup(string groupId)
    {
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return new GroupSummary(groupId, GroupState.Dead, "", "", []);
        lock (group.Sync)
        {
            if (group.Consumer is { } consumerGroup) return SummarizeConsumerGroup(groupId, consumerGroup, withMembers: true);
            var stable = group.State == GroupState.Stable;
            var members = new List<MemberSummary>(group.Members.Count);
            foreach (var m in group.Members)
            {
                members.Add(new MemberSummary(m.MemberId, m.InstanceId, m.ClientId, m.ClientHost,
                    stable ? m.MetadataFor(group.ProtocolName) ?? [] : [], stable ? m.Assignment : []));
            }
            return new GroupSummary(groupId, group.State, group.ProtocolType ?? "", stable ? group.ProtocolName ?? "" : "", members);
        }
    }

    /// <summary>DeleteGroups: "only empty groups can be deleted" (NON_EMPTY_GROUP); their offsets go with them.</summary>
    public KafkaErrorCode DeleteGroup(string groupId)
    {
        var group = _groups.GetValueOrDefault(groupId);
        if (group is null) return KafkaErrorCode.GroupIdNotFound;
        lock (group.Sync)
        {
            if (group.State == GroupState.Dead) return KafkaErrorCode.GroupIdNotFound;
            if (group.State != GroupState.Empty || group.Members.Count > 0 || group.Consumer is { Members.Count: > 0 }) return KafkaErrorCode.NonEmptyGroup;
            try
            {
                _store.Delete(groupId, [.. group.Offsets.Keys]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return KafkaErrorCode.UnknownServerError;
            }
            group.Offsets.Clear();
            group.State = GroupState.Dead;
            _groups.TryRemove(new KeyValuePair<string, ClassicGroup>(groupId, group));
            return KafkaErrorCode.None;
        }
    }
}
