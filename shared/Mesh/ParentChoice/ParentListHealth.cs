using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>What membership knows about one parent of an operator's <c>--parent</c> list.</summary>
/// <param name="Address">The listed <c>HOST:PORT</c>.</param>
/// <param name="NodeId">The member whose uplink address it is, when membership knows one.</param>
/// <param name="State">That member's state; null when no member advertises this address.</param>
public readonly record struct ListedParentStatus(string Address, string? NodeId, MemberState? State)
{
    /// <summary>Membership has a verdict: dead or left. Unknown addresses are not known dead (membership may not cover them).</summary>
    public bool KnownDead => State is MemberState.Dead or MemberState.Left;
}

/// <summary>Matches an operator's ordered <c>--parent</c> list against membership, so the uplink can skip a parent known dead instead of waiting for its connection attempts to fail.</summary>
public static class ParentListHealth
{
    /// <summary>
    /// The status of each listed parent (<c>HOST:PORT</c>), in list order. A member matches when it
    /// advertises that uplink address, or when its node id is the listed host (an operator who names
    /// parents by node id in DNS). An address several members match (a node restarted under a new
    /// id) takes the liveliest state: alive, then suspect, then the rest. Comparisons ignore case
    /// (host names). <paramref name="self"/>, when given, never matches.
    /// </summary>
    public static IReadOnlyList<ListedParentStatus> Evaluate(IReadOnlyList<string> parents, IReadOnlyList<Member> members, string? self = null)
    {
        var result = new ListedParentStatus[parents.Count];
        for (var i = 0; i < parents.Count; i++)
        {
            var colon = parents[i].LastIndexOf(':');
            var host = colon > 0 ? parents[i][..colon] : parents[i];
            Member? match = null;
            foreach (var m in members)
            {
                if (m.NodeId == self) continue;
                if (!string.Equals(m.Metadata.UplinkAddress, parents[i], StringComparison.OrdinalIgnoreCase)
                    && !string.Equals(m.NodeId, host, StringComparison.OrdinalIgnoreCase)) continue;
                if (match is null || Rank(m.State) < Rank(match.State)) match = m;
            }
            result[i] = new ListedParentStatus(parents[i], match?.NodeId, match?.State);
        }
        return result;
    }

    /// <summary>Index of the first listed parent not known dead, or -1 when every one is.</summary>
    public static int FirstNotKnownDead(IReadOnlyList<ListedParentStatus> statuses)
    {
        for (var i = 0; i < statuses.Count; i++)
            if (!statuses[i].KnownDead) return i;
        return -1;
    }

    private static int Rank(MemberState state) => state switch
    {
        MemberState.Alive => 0,
        MemberState.Suspect => 1,
        MemberState.Dead => 2,
        _ => 3,
    };
}
