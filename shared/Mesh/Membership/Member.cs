using System.Net;

namespace EdgeStream.Mesh.Membership;

/// <summary>What one membership instance believes about a member (SWIM states).</summary>
public enum MemberState : byte
{
    /// <summary>Answers probes, or has refuted every suspicion raised so far.</summary>
    Alive = 1,

    /// <summary>A probe failed; the member is declared dead unless it refutes before its suspicion times out.</summary>
    Suspect = 2,

    /// <summary>A suspicion timed out somewhere in the scope. The member comes back only with a higher incarnation.</summary>
    Dead = 3,

    /// <summary>The member announced a graceful leave.</summary>
    Left = 4,
}

/// <summary>
/// Load a member reports so children can pick the least-loaded parent. Gossiped with the metadata,
/// so it is as fresh as the last <see cref="SwimMembership.UpdateLocalMetadata"/> call.
/// </summary>
/// <param name="BacklogBytes">Bytes stored locally and not yet forwarded upstream.</param>
/// <param name="Children">Children connected over the uplink right now.</param>
/// <param name="DiskFreeBytes">Free bytes left for the log (disk budget or file system, whichever is smaller).</param>
public readonly record struct MemberLoad(long BacklogBytes, int Children, long DiskFreeBytes);

/// <summary>What travels with a member through the scope: who it is and how to reach it.</summary>
public sealed record MemberMetadata
{
    /// <summary><c>edge</c>, <c>gateway</c> or <c>cloud</c> (any short token: roles own the meaning).</summary>
    public required string Role { get; init; }

    /// <summary>Where children reach this node's uplink listener (<c>HOST:PORT</c>), empty when it has none.</summary>
    public string UplinkAddress { get; init; } = "";

    /// <summary>Where the rest of the scope reaches this member's gossip (UDP, and TCP on the same port for push-pull).</summary>
    public required IPEndPoint GossipEndPoint { get; init; }

    /// <summary>Backlog, children and disk free, as last reported.</summary>
    public MemberLoad Load { get; init; }

    /// <summary>
    /// The node id of the member's current parent, empty for none (or not told). Siblings choosing a
    /// parent count it, so the children of a tier spread evenly instead of each choosing blind.
    /// </summary>
    public string Parent { get; init; } = "";
}

/// <summary>A snapshot of one member as seen by one membership instance.</summary>
/// <param name="NodeId">The member's node id (unique in the cluster).</param>
/// <param name="State">Alive, suspect, dead or left.</param>
/// <param name="Incarnation">The member's incarnation number: only the member raises it (to refute, to update its metadata, to leave).</param>
/// <param name="Metadata">Role, addresses and load.</param>
/// <param name="StateSince">When this instance saw the member enter <paramref name="State"/> (a refuted suspicion restarts it).</param>
public sealed record Member(string NodeId, MemberState State, long Incarnation, MemberMetadata Metadata, DateTimeOffset StateSince)
{
    /// <summary>Alive or suspect: still in the probe rotation.</summary>
    public bool IsLive => State is MemberState.Alive or MemberState.Suspect;
}

/// <summary>Why a member's entry changed.</summary>
public enum MemberChangeKind
{
    /// <summary>First heard of.</summary>
    Joined,

    /// <summary>New incarnation with the same state (metadata or load changed, or a suspicion was refuted).</summary>
    Updated,

    /// <summary>A probe failed here or elsewhere.</summary>
    Suspected,

    /// <summary>Back to alive from suspect, dead or left.</summary>
    Recovered,

    /// <summary>Declared dead.</summary>
    Failed,

    /// <summary>Left gracefully.</summary>
    Left,
}

/// <summary>Raised by <see cref="SwimMembership.MemberChanged"/>, outside the engine's lock, in the order changes happened.</summary>
public sealed class MemberChangedEventArgs : EventArgs
{
    public MemberChangedEventArgs(Member member, MemberChangeKind kind, MemberState? previousState, bool declaredHere)
    {
        Member = member;
        Kind = kind;
        PreviousState = previousState;
        DeclaredHere = declaredHere;
    }

    /// <summary>The member after the change.</summary>
    public Member Member { get; }

    public MemberChangeKind Kind { get; }

    /// <summary>The state before, null for a member first heard of.</summary>
    public MemberState? PreviousState { get; }

    /// <summary>True when this instance reached the verdict itself (its probe failed, its suspicion timed out), not from gossip.</summary>
    public bool DeclaredHere { get; }
}
