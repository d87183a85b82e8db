using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>The outcome of one <see cref="ParentTracker.Update"/>.</summary>
/// <param name="ParentId">The parent to use now; null when no eligible candidate is alive.</param>
/// <param name="PreviousParentId">The parent before this update.</param>
/// <param name="Changed">True when <paramref name="ParentId"/> differs from <paramref name="PreviousParentId"/>.</param>
/// <param name="Reason">Why, for logs and /v1/status ("parent gw-2 dead", "preferred parent gw-1 alive for 30s", …).</param>
public sealed record ParentDecision(string? ParentId, string? PreviousParentId, bool Changed, string Reason);

/// <summary>
/// Which parent a child uses, with hysteresis. The preferred parent is the rendezvous choice among
/// alive candidates of the best tier that has any. A child leaves its parent only when membership
/// says it is dead or left (or gone from the list): one suspicion does not move it, the verdict
/// does. It moves to the preferred parent only once that one has been alive without a break for
/// <see cref="ParentChoiceOptions.ReturnAfter"/>, so a flapping gateway drags no one along. No I/O
/// and no clock of its own: the caller passes the candidates and the time. Not thread-safe.
/// </summary>
public sealed class ParentTracker
{
    private readonly string _childId;
    private readonly ParentChoiceOptions _options;

    public ParentTracker(string childId, ParentChoiceOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(childId);
        ArgumentNullException.ThrowIfNull(options);
        if (options.EligibleRoles.Count == 0) throw new MeshException("parent choice needs at least one eligible role");
        _childId = childId;
        _options = options;
    }

    /// <summary>The parent in use, null before the first choice or with none alive.</summary>
    public string? Current { get; private set; }

    /// <summary>Re-evaluates the choice against the latest membership picture.</summary>
    public ParentDecision Update(IReadOnlyList<ParentCandidate> candidates, DateTimeOffset now)
    {
        var previous = Current;
        var preferred = Preferred(candidates, now, stableOnly: false, out var tierRole, out var tierSize);
        ParentCandidate? current = null;
        if (previous is not null)
        {
            foreach (var c in candidates)
                if (c.NodeId == previous && IsEligible(c.Role)) current = c;
        }

        string? lost = null;
        if (previous is null) lost = "no parent yet";
        else if (current is null) lost = $"parent {previous} is no longer an eligible member";
        else if (current.Value.State == MemberState.Dead) lost = $"parent {previous} dead";
        else if (current.Value.State == MemberState.Left) lost = $"parent {previous} left";

        if (lost is not null)
        {
            // Forced to move: prefer candidates that have been stable for a while, so a child does
            // not jump onto a gateway that only just came back (and may go again).
            var target = Preferred(candidates, now, stableOnly: true, out var stableRole, out var stableSize) ?? preferred;
            if (target is null) return Decide(null, previous, $"{lost}; no eligible parent alive");
            var role = target.Value.NodeId == preferred?.NodeId ? tierRole : stableRole;
            var size = target.Value.NodeId == preferred?.NodeId ? tierSize : stableSize;
            return Decide(target.Value.NodeId, previous, $"{lost}; chose {target.Value.NodeId} (rendezvous over {size} alive {role} candidates)");
        }

        var cur = current!.Value;
        // A suspect parent is not alive, so it drops out of the rendezvous and something else looks
        // preferred: ignore that until membership has decided, or one suspicion would move children.
        if (cur.State == MemberState.Suspect)
            return Decide(cur.NodeId, previous, $"parent {cur.NodeId} suspect: staying until membership decides");
        if (preferred is { } p && p.NodeId != cur.NodeId)
        {
            var aliveFor = now - p.StateSince;
            if (aliveFor >= _options.ReturnAfter)
                return Decide(p.NodeId, previous, $"preferred parent {p.NodeId} alive for {Seconds(aliveFor)}s");
            return Decide(cur.NodeId, previous, $"staying on {cur.NodeId}: preferred parent {p.NodeId} alive for only {Seconds(aliveFor)}s of {Seconds(_options.ReturnAfter)}s");
        }
        return Decide(cur.NodeId, previous, $"parent {cur.NodeId} alive");
    }

    /// <summary>
    /// The preferred parent: rendezvous over the alive candidates of the first eligible role (tier)
    /// that has any; with <paramref name="stableOnly"/>, only those alive for at least ReturnAfter.
    /// </summary>
    private ParentCandidate? Preferred(IReadOnlyList<ParentCandidate> candidates, DateTimeOffset now, bool stableOnly, out string role, out int tierSize)
    {
        var tier = new List<ParentCandidate>();
        foreach (var r in _options.EligibleRoles)
        {
            tier.Clear();
            foreach (var c in candidates)
            {
                if (c.State != MemberState.Alive || !string.Equals(c.Role, r, StringComparison.Ordinal)) continue;
                if (stableOnly && now - c.StateSince < _options.ReturnAfter) continue;
                tier.Add(c);
            }
            var best = RendezvousHash.Choose(_childId, tier, _options.Weight);
            if (best >= 0)
            {
                role = r;
                tierSize = tier.Count;
                return tier[best];
            }
        }
        role = "";
        tierSize = 0;
        return null;
    }

    private bool IsEligible(string role)
    {
        foreach (var r in _options.EligibleRoles)
            if (string.Equals(r, role, StringComparison.Ordinal)) return true;
        return false;
    }

    private ParentDecision Decide(string? parent, string? previous, string reason)
    {
        Current = parent;
        return new ParentDecision(parent, previous, parent != previous, reason);
    }

    private static long Seconds(TimeSpan t) => (long)Math.Floor(t.TotalSeconds);
}
