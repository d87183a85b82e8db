using EdgeStream.Kafka.Server;

namespace EdgeStream.Kafka.Groups;

/// <summary>The states of a classic (JoinGroup/SyncGroup) group, as Kafka names them in ListGroups and DescribeGroups.</summary>
public enum GroupState
{
    /// <summary>No members; may still hold committed offsets.</summary>
    Empty,
    /// <summary>A rebalance started: JoinGroup requests are held until every known member rejoined or the rebalance timeout passed.</summary>
    PreparingRebalance,
    /// <summary>JoinGroup answered; waiting for the leader's SyncGroup with the assignments.</summary>
    CompletingRebalance,
    /// <summary>Assignments handed out; members heartbeat.</summary>
    Stable,
    /// <summary>Deleted or dropped: no longer in the coordinator's map. A request that still holds it looks again.</summary>
    Dead,
}

/// <summary>The answer to a JoinGroup. The leader gets every member's metadata; followers get none.</summary>
public sealed record JoinResult(KafkaErrorCode Error, string MemberId, int GenerationId = -1, string? ProtocolType = null,
    string? ProtocolName = null, string LeaderId = "", bool SkipAssignment = false, IReadOnlyList<JoinedMember>? Members = null)
{
    public static JoinResult Failed(KafkaErrorCode error, string memberId = "") => new(error, memberId);
}

/// <summary>A member as the leader sees it in the JoinGroup response.</summary>
public readonly record struct JoinedMember(string MemberId, string? InstanceId, byte[] Metadata);

/// <summary>The answer to a SyncGroup: the member's assignment bytes, passed through from the leader untouched.</summary>
public sealed record SyncResult(KafkaErrorCode Error, string? ProtocolType = null, string? ProtocolName = null, byte[]? Assignment = null)
{
    public static SyncResult Failed(KafkaErrorCode error) => new(error);
}

/// <summary>
/// One classic group: its members, generation, leader and committed offsets. Every field is
/// guarded by <see cref="Sync"/>; the coordinator holds it for the whole of each operation.
/// </summary>
internal sealed class ClassicGroup(string groupId)
{
    public Lock Sync { get; } = new();
    public string GroupId { get; } = groupId;
    public GroupState State { get; set; } = GroupState.Empty;
    public int GenerationId { get; set; }
    public string? ProtocolType { get; set; }
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }
    /// <summary>Members in the order they joined (the first one left becomes leader when the leader goes).</summary>
    public List<GroupMemberState> Members { get; } = [];
    /// <summary>group.instance.id → member id of the static member holding it.</summary>
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);
    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, not yet joined → when they expire.</summary>
    public Dictionary<string, long> PendingMembers { get; } = new(StringComparer.Ordinal);
    /// <summary>When a PreparingRebalance stops waiting for members to rejoin.</summary>
    public long RebalanceDeadlineMs { get; set; }
    /// <summary>When a CompletingRebalance stops waiting for members' SyncGroup.</summary>
    public long SyncDeadlineMs { get; set; }
    public Dictionary<(string Topic, int Partition), StoredOffset> Offsets { get; } = [];
    /// <summary>
    /// Set while the group id belongs to a consumer-protocol group (KIP-848): its members live there
    /// and the classic fields above stay empty; the offsets and the lock are shared. Kafka keeps one
    /// namespace of group ids for both kinds.
    /// </summary>
    public ConsumerGroup? Consumer { get; set; }

    public GroupMemberState? Find(string memberId)
    {
        foreach (var m in Members)
            if (m.MemberId == memberId) return m;
        return null;
    }

    /// <summary>
    /// Kafka's supportsProtocols: an empty group takes any non-empty protocol type and list; a
    /// non-empty group needs the same protocol type and at least one protocol every member supports.
    /// </summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<MemberProtocol> protocols, GroupMemberState? except = null)
    {
        if (Members.Count == 0 || (Members.Count == 1 && Members[0] == except))
            return protocolType.Length > 0 && protocols.Count > 0;
        if (protocolType != ProtocolType) return false;
        foreach (var p in protocols)
        {
            var everyone = true;
            foreach (var m in Members)
            {
                if (m == except) continue;
                if (m.MetadataFor(p.Name) is null) { everyone = false; break; }
            }
            if (everyone) return true;
        }
        return false;
    }

    /// <summary>
    /// Kafka's selectProtocol: among the protocols every member supports, each member votes for
    /// the first of its own list; the most votes wins (ties: the first candidate in the leader's order).
    /// </summary>
    public string SelectProtocol()
    {
        var candidates = new List<string>();
        foreach (var p in Members[0].Protocols)
        {
            var everyone = true;
            foreach (var m in Members)
                if (m.MetadataFor(p.Name) is null) { everyone = false; break; }
            if (everyone) candidates.Add(p.Name);
        }
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in Members)
        {
            foreach (var p in m.Protocols)
            {
                if (!candidates.Contains(p.Name)) continue;
                votes[p.Name] = votes.GetValueOrDefault(p.Name) + 1;
                break;
            }
        }
        var best = candidates[0];
        foreach (var c in candidates)
            if (votes.GetValueOrDefault(c) > votes.GetValueOrDefault(best)) best = c;
        return best;
    }

    public IReadOnlyList<JoinedMember> MemberMetadata()
    {
        var list = new List<JoinedMember>(Members.Count);
        foreach (var m in Members) list.Add(new JoinedMember(m.MemberId, m.InstanceId, m.MetadataFor(ProtocolName) ?? []));
        return list;
    }

    public int MaxRebalanceTimeoutMs()
    {
        var max = 0;
        foreach (var m in Members) max = Math.Max(max, m.RebalanceTimeoutMs);
        return max;
    }

    public static string StateName(GroupState state) => state.ToString();
}
