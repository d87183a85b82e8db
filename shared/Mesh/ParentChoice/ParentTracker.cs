using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>The outcome of one <see cref="ParentTracker.Update"/>.</summary>
/// <param name="ParentId">The parent to use now; null when no eligible candidate is alive.</param>
/// <param name="PreviousParentId">The parent before this update.</param>
/// <param name="Changed">True when <paramref name="ParentId"/> differs from <paramref name="PreviousParentId"/>.</param>
/// <param name="Reason">Why, for logs and /v1/status ("parent gw-2 dead", "preferred parent gw-1 alive for 30s", …).</param>
public sealed record ParentDecision(string? ParentId, string? PreviousParentId, bool Changed, string Reason);

/// <summary>
/// Which parent a child uses, with hysteresis. A child choosing (it has none, or membership says its
/// parent is dead or left) takes the <see cref="BalancedRendezvous"/> choice among alive candidates of
/// the best tier that has any, preferring those alive for <see cref="ParentChoiceOptions.ReturnAfter"/>.
/// Then it stays: one suspicion does not move it, and neither does a new candidate appearing (a new
/// gateway takes new children, existing ones stay put). Its first choice is its <em>home</em>: after
/// a forced move it goes back home once home has been alive without a break for ReturnAfter, so a
/// failover is undone when the gateway returns, and a flapping gateway drags no one along. A home
/// that left (a graceful shutdown: decommissioned) or is forgotten by membership is given up, and
/// the parent in use becomes home. A child on a lower tier (an edge on a cloud node because no
/// gateway was alive) moves up once a candidate of a better tier has been alive for ReturnAfter.
/// No I/O and no clock of its own: the caller passes the candidates and the time. Not thread-safe.
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

    /// <summary>The parent the child returns to after a forced move (its first choice), null before one.</summary>
    public string? Home { get; private set; }

    /// <summary>Re-evaluates the choice without siblings (every child chooses by plain rendezvous).</summary>
    public ParentDecision Update(IReadOnlyList<ParentCandidate> candidates, DateTimeOffset now) => Update(candidates, [], now);

    /// <summary>Re-evaluates the choice against the latest membership picture and the parents live siblings report.</summary>
    public ParentDecision Update(IReadOnlyList<ParentCandidate> candidates, IReadOnlyList<SiblingChoice> siblings, DateTimeOffset now)
    {
        var previous = Current;
        ParentCandidate? current = Find(candidates, previous);

        string? lost = null;
        if (previous is null) lost = "no parent yet";
        else if (current is null) lost = $"parent {previous} is no longer an eligible member";
        else if (current.Value.State == MemberState.Dead) lost = $"parent {previous} dead";
        else if (current.Value.State == MemberState.Left) lost = $"parent {previous} left";

        if (lost is not null)
        {
            // Forced to move: prefer candidates that have been stable for a while, so a child does
            // not jump onto a gateway that only just came back (and may go again).
            var target = Choose(candidates, siblings, now, stableOnly: true, out var role, out var size)
                ?? Choose(candidates, siblings, now, stableOnly: false, out role, out size);
            if (target is null) return Decide(null, previous, $"{lost}; no eligible parent alive");
            if (Home is null || previous is null) Home = target.Value.NodeId;
            return Decide(target.Value.NodeId, previous, $"{lost}; chose {target.Value.NodeId} (balanced rendezvous over {size} alive {role} candidates)");
        }

        var cur = current!.Value;
        if (cur.State == MemberState.Suspect)
            return Decide(cur.NodeId, previous, $"parent {cur.NodeId} suspect: staying until membership decides");

        if (Home is { } homeId && homeId != cur.NodeId)
        {
            var home = Find(candidates, homeId);
            if (home is null || home.Value.State == MemberState.Left)
            {
                Home = cur.NodeId; // decommissioned or forgotten: this parent is home now
            }
            else if (home.Value.State == MemberState.Alive)
            {
                var aliveFor = now - home.Value.StateSince;
                if (aliveFor >= _options.ReturnAfter)
                    return Decide(homeId, previous, $"preferred parent {homeId} alive for {Seconds(aliveFor)}s");
                return Decide(cur.NodeId, previous, $"staying on {cur.NodeId}: preferred parent {homeId} alive for only {Seconds(aliveFor)}s of {Seconds(_options.ReturnAfter)}s");
            }
        }

        // On a lower tier than one with a stable alive candidate: move up. (On the best tier there is
        // nothing to look for, and the balanced choice is not worth computing every tick.)
        var curTier = TierOf(cur.Role);
        if (curTier == 0) return Decide(cur.NodeId, previous, $"parent {cur.NodeId} alive");
        var better = Choose(candidates, siblings, now, stableOnly: true, out var betterRole, out var betterSize);
        if (better is { } b && TierOf(b.Role) < curTier)
        {
            Home = b.NodeId;
            return Decide(b.NodeId, previous, $"{betterRole} {b.NodeId} alive for {Seconds(_options.ReturnAfter)}s or more (balanced rendezvous over {betterSize} stable {betterRole} candidates)");
        }
        return Decide(cur.NodeId, previous, $"parent {cur.NodeId} alive");
    }

    /// <summary>
    /// The balanced rendezvous choice over the alive candidates of the first eligible role (tier)
    /// that has any; with <paramref name="stableOnly"/>, only those alive for at least ReturnAfter.
    /// </summary>
    private ParentCandidate? Choose(IReadOnlyList<ParentCandidate> candidates, IReadOnlyList<SiblingChoice> siblings, DateTimeOffset now, bool stableOnly, out string role, out int tierSize)
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
            var best = BalancedRendezvous.Choose(_childId, tier, siblings, _options.Weight);
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

    private ParentCandidate? Find(IReadOnlyList<ParentCandidate> candidates, string? id)
    {
        if (id is null) return null;
        foreach (var c in candidates)
            if (c.NodeId == id && TierOf(c.Role) < int.MaxValue) return c;
        return null;
    }

    /// <summary>0 for the best eligible role, int.MaxValue for a role that may not parent.</summary>
    private int TierOf(string role)
    {
        for (var i = 0; i < _options.EligibleRoles.Count; i++)
            if (string.Equals(_options.EligibleRoles[i], role, StringComparison.Ordinal)) return i;
        return int.MaxValue;
    }

    private ParentDecision Decide(string? parent, string? previous, string reason)
    {
        Current = parent;
        return new ParentDecision(parent, previous, parent != previous, reason);
    }

    private static long Seconds(TimeSpan t) => (long)Math.Floor(t.TotalSeconds);
}
