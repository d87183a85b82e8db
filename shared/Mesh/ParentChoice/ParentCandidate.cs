using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>A member that might serve as a parent, as membership sees it.</summary>
/// <param name="NodeId">Its node id (what the rendezvous hash is computed on).</param>
/// <param name="Role">Its role; the caller's tier policy says which roles may parent.</param>
/// <param name="State">Alive, suspect, dead or left.</param>
/// <param name="StateSince">When it entered <paramref name="State"/>: for an alive member, since when it has been alive without a break.</param>
/// <param name="Load">Its reported load.</param>
/// <param name="UplinkAddress">Where its uplink listener is (<c>HOST:PORT</c>).</param>
public readonly record struct ParentCandidate(string NodeId, string Role, MemberState State, DateTimeOffset StateSince, MemberLoad Load, string UplinkAddress = "")
{
    public static ParentCandidate FromMember(Member member) =>
        new(member.NodeId, member.Metadata.Role, member.State, member.StateSince, member.Metadata.Load, member.Metadata.UplinkAddress);
}

/// <summary>Settings of parent choice. The tier policy is the roles': this library only applies it.</summary>
public sealed record ParentChoiceOptions
{
    /// <summary>Roles that may parent this node, best tier first (an edge: <c>[gateway, cloud]</c>). Required.</summary>
    public required IReadOnlyList<string> EligibleRoles { get; init; }

    /// <summary>
    /// How long the preferred parent must have been alive without a break before a child moves
    /// (back) to it. A gateway that flaps never stays alive that long, so it drags no one. Default 30 s.
    /// </summary>
    public TimeSpan ReturnAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Rendezvous weight of a candidate from its load (0 excludes it). Default <see cref="ParentWeights.FromLoad"/>.</summary>
    public Func<MemberLoad, double> Weight { get; init; } = ParentWeights.FromLoad;
}

/// <summary>Rendezvous weights from reported load.</summary>
public static class ParentWeights
{
    private const long GiB = 1L << 30;

    /// <summary>
    /// Coarse steps, not a continuous function: a weight that moved with every load report would
    /// move the preferred parent with it, and children would follow after <see cref="ParentChoiceOptions.ReturnAfter"/>.
    /// Halved when the candidate's own backlog (data it cannot get upstream) passes 1 GiB, quartered past 10 GiB;
    /// quartered when it reports under 1 GiB of disk free (0 means not reported). Children connected
    /// are left out on purpose: they are the result of this choice, and feeding them back would make
    /// every child's preference depend on every other child's.
    /// </summary>
    public static double FromLoad(MemberLoad load)
    {
        var weight = 1.0;
        if (load.BacklogBytes >= 10 * GiB) weight *= 0.25;
        else if (load.BacklogBytes >= GiB) weight *= 0.5;
        if (load.DiskFreeBytes is > 0 and < GiB) weight *= 0.25;
        return weight;
    }

    /// <summary>Every candidate weighs the same.</summary>
    public static double Equal(MemberLoad load) => 1.0;
}
