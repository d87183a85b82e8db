namespace EdgeStream.Kafka.Groups;

/// <summary>The states of a consumer-protocol group (KIP-848), as ListGroups and ConsumerGroupDescribe name them.</summary>
public enum ConsumerGroupState
{
    /// <summary>No members; may still hold committed offsets.</summary>
    Empty,
    /// <summary>The group epoch moved past the target assignment's: a new target is due.</summary>
    Assigning,
    /// <summary>The target assignment is computed; some members have not reached it yet.</summary>
    Reconciling,
    /// <summary>Every member owns its target assignment at the assignment epoch.</summary>
    Stable,
}

/// <summary>
/// The state of one consumer-protocol group (Kafka's ConsumerGroup): its members, the group epoch
/// (bumped by every subscription or membership change), the target assignment computed for that
/// epoch, and which member owns each partition now. A partition has at most one owner: a member
/// it is assigned to, or one that must still revoke it. Guarded by the lock of the
/// <see cref="ClassicGroup"/> record that holds it (the same record keeps the committed offsets).
/// </summary>
internal sealed class ConsumerGroup
{
    public int GroupEpoch { get; set; }
    public int AssignmentEpoch { get; set; }
    /// <summary>The assignor that computed the current target assignment.</summary>
    public string AssignorName { get; set; } = "";
    public Dictionary<string, ConsumerGroupMember> Members { get; } = new(StringComparer.Ordinal);
    /// <summary>group.instance.id → member id holding it.</summary>
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);
    /// <summary>Member id → the partitions the last assignor run gave it.</summary>
    public Dictionary<string, HashSet<TopicPartitionKey>> TargetAssignment { get; } = new(StringComparer.Ordinal);
    /// <summary>Partition → the member that holds it (assigned, or not yet revoked).</summary>
    public Dictionary<TopicPartitionKey, string> Owners { get; } = [];
    /// <summary>The subscribed topics and their partition counts when the target was computed; a change bumps the group epoch.</summary>
    public string SubscriptionMetadata { get; set; } = "";

    public ConsumerGroupState State
    {
        get
        {
            if (Members.Count == 0) return ConsumerGroupState.Empty;
            if (GroupEpoch > AssignmentEpoch) return ConsumerGroupState.Assigning;
            foreach (var m in Members.Values)
                if (m.MemberEpoch != AssignmentEpoch || m.Reconciliation != MemberReconciliation.Stable) return ConsumerGroupState.Reconciling;
            return ConsumerGroupState.Stable;
        }
    }

    /// <summary>Every topic name some member subscribes to by name (regular expressions resolved by the caller).</summary>
    public HashSet<string> SubscribedTopicNames()
    {
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in Members.Values)
            foreach (var t in m.ResolvedTopics) topics.Add(t);
        return topics;
    }

    /// <summary>Removes a member and frees every partition it holds, so the next reconciliation can hand them on.</summary>
    public void Remove(ConsumerGroupMember member)
    {
        Members.Remove(member.MemberId);
        TargetAssignment.Remove(member.MemberId);
        if (member.InstanceId is not null && StaticMembers.TryGetValue(member.InstanceId, out var holder) && holder == member.MemberId)
            StaticMembers.Remove(member.InstanceId);
        foreach (var p in member.Assigned) Release(p, member.MemberId);
        foreach (var p in member.PendingRevocation) Release(p, member.MemberId);
        GroupEpoch++;
    }

    public void Release(TopicPartitionKey partition, string memberId)
    {
        if (Owners.TryGetValue(partition, out var owner) && owner == memberId) Owners.Remove(partition);
    }
}

/// <summary>A partition of a topic named by its name (the catalog maps names to the ids the wire carries).</summary>
public readonly record struct TopicPartitionKey(string Topic, int Partition);

/// <summary>Where a member is in moving to its target assignment (Kafka's MemberState).</summary>
internal enum MemberReconciliation
{
    /// <summary>Owns its target assignment (as far as other members released it) at the assignment epoch.</summary>
    Stable,
    /// <summary>Told to revoke partitions; keeps its epoch until a heartbeat shows it no longer owns them.</summary>
    UnrevokedPartitions,
    /// <summary>At the assignment epoch, waiting for partitions other members still hold.</summary>
    UnreleasedPartitions,
}

/// <summary>One member of a <see cref="ConsumerGroup"/>; guarded by the group's lock.</summary>
internal sealed class ConsumerGroupMember
{
    /// <summary>The epoch of a static member that left with epoch -2: its assignment is kept for its successor until the session times out.</summary>
    public const int StaticLeaveEpoch = -2;

    public required string MemberId { get; init; }
    public string? InstanceId { get; set; }
    public string? RackId { get; set; }
    public string ClientId { get; set; } = "";
    public string ClientHost { get; set; } = "";
    public int MemberEpoch { get; set; }
    public int PreviousMemberEpoch { get; set; } = -1;
    public int RebalanceTimeoutMs { get; set; }
    public IReadOnlyList<string> SubscribedTopicNames { get; set; } = [];
    public string? SubscribedTopicRegex { get; set; }
    public string? ServerAssignor { get; set; }
    /// <summary>The topics the member's names and regular expression resolve to now.</summary>
    public IReadOnlyList<string> ResolvedTopics { get; set; } = [];
    public MemberReconciliation Reconciliation { get; set; }
    /// <summary>The partitions the member was told it owns.</summary>
    public HashSet<TopicPartitionKey> Assigned { get; set; } = [];
    /// <summary>Partitions the member must stop owning before they go to someone else.</summary>
    public HashSet<TopicPartitionKey> PendingRevocation { get; set; } = [];
    /// <summary>Environment.TickCount64 of its last heartbeat.</summary>
    public long LastSeenMs { get; set; }
    /// <summary>When a member that does not revoke what it was told to is removed (its rebalance timeout).</summary>
    public long RevocationDeadlineMs { get; set; }
}
