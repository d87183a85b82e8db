namespace EdgeStream.Kafka.Groups;

/// <summary>One protocol a member supports (an assignor name, e.g. "range") and its opaque metadata.</summary>
public readonly record struct MemberProtocol(string Name, byte[] Metadata);

/// <summary>What the coordinator keeps of one member of a <see cref="ClassicGroup"/>; guarded by the group's lock.</summary>
internal sealed class GroupMemberState
{
    public required string MemberId { get; init; }
    public string? InstanceId { get; init; }
    public string ClientId { get; set; } = "";
    public string ClientHost { get; set; } = "";
    public int SessionTimeoutMs { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public string ProtocolType { get; set; } = "";
    public IReadOnlyList<MemberProtocol> Protocols { get; set; } = [];
    public byte[] Assignment { get; set; } = [];
    /// <summary>Environment.TickCount64 of the last request that proved the member alive.</summary>
    public long LastSeenMs { get; set; }
    /// <summary>Set while a JoinGroup of this member is held (long-poll) during PreparingRebalance.</summary>
    public TaskCompletionSource<JoinResult>? PendingJoin { get; set; }
    /// <summary>Set while a SyncGroup of this member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncResult>? PendingSync { get; set; }
    /// <summary>True once the member sent SyncGroup for the current generation.</summary>
    public bool Synced { get; set; }

    public byte[]? MetadataFor(string? protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return p.Metadata;
        return null;
    }

    public bool SameProtocols(IReadOnlyList<MemberProtocol> other)
    {
        if (other.Count != Protocols.Count) return false;
        for (var i = 0; i < other.Count; i++)
        {
            if (other[i].Name != Protocols[i].Name || !other[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata)) return false;
        }
        return true;
    }
}
