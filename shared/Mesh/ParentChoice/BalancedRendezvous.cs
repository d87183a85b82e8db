using EdgeStream.Mesh.Membership;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>A sibling: another child of the same tier, and the parent it reports (empty for none).</summary>
/// <param name="NodeId">The sibling's node id.</param>
/// <param name="ParentId">Its current parent as it gossips it; empty when it has none (or runs a version that does not say).</param>
public readonly record struct SiblingChoice(string NodeId, string ParentId);

/// <summary>
/// Rendezvous hashing with bounded loads. Plain rendezvous lets each child choose independently, so
/// 100 children over 3 parents land anywhere around 33/33/34 (32/32/36 is ordinary). Every child
/// also hears which parent each sibling uses (<see cref="MemberMetadata.Parent"/>), so it can run
/// the same deterministic assignment as its siblings: each candidate gets a quota of the children,
/// proportional to its weight (largest remainders, so the quotas sum to the children exactly); the
/// siblings that keep their parent fill quotas first; the children that must choose (no parent, or
/// a parent that is not an alive candidate) then take, in node id order, their highest-scoring
/// candidate that still has room. Siblings that see the same membership compute the same answer,
/// so they land exactly on the quotas without talking to each other; a child that sees a slightly
/// older picture lands at most a child or two off. Pure function, no state.
/// </summary>
public static class BalancedRendezvous
{
    /// <summary>
    /// The candidate <paramref name="child"/> should take (an index into <paramref name="candidates"/>),
    /// or -1 when no candidate has a positive weight. <paramref name="siblings"/> are the other children
    /// of this tier that are live (the child itself is added as one that chooses).
    /// </summary>
    public static int Choose(string child, IReadOnlyList<ParentCandidate> candidates, IReadOnlyList<SiblingChoice> siblings, Func<MemberLoad, double> weight)
    {
        ArgumentException.ThrowIfNullOrEmpty(child);
        var n = candidates.Count;
        var weights = new double[n];
        var total = 0.0;
        for (var i = 0; i < n; i++)
        {
            var w = weight(candidates[i].Load);
            weights[i] = w > 0 && double.IsFinite(w) ? w : 0;
            total += weights[i];
        }
        if (total <= 0) return -1;

        var index = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
            if (weights[i] > 0) index.TryAdd(candidates[i].NodeId, i);

        // Who keeps a parent (fills a quota) and who must choose; the child itself always chooses.
        var counts = new int[n];
        var choosing = new List<string> { child };
        var seen = new HashSet<string>(StringComparer.Ordinal) { child };
        foreach (var s in siblings)
        {
            if (string.IsNullOrEmpty(s.NodeId) || !seen.Add(s.NodeId)) continue;
            if (index.TryGetValue(s.ParentId, out var p)) counts[p]++;
            else choosing.Add(s.NodeId);
        }
        var quotas = Quotas(candidates, weights, total, seen.Count, counts);

        choosing.Sort(StringComparer.Ordinal);
        foreach (var c in choosing)
        {
            var best = BestWithRoom(c, candidates, weights, counts, quotas);
            if (c == child) return best;
            counts[best]++;
        }
        return -1; // unreachable: the child is in the list
    }

    /// <summary>
    /// Quotas by largest remainder: ⌊children·w/Σw⌋ each, the leftover children one each to the
    /// largest fractional parts, ties to the candidate holding fewer children (a parent that just
    /// joined gets the odd child), then to the lower node id: never the caller's order, which differs
    /// between siblings.
    /// </summary>
    private static int[] Quotas(IReadOnlyList<ParentCandidate> candidates, double[] weights, double total, int children, int[] counts)
    {
        var n = weights.Length;
        var quotas = new int[n];
        var fractions = new double[n];
        var assigned = 0;
        for (var i = 0; i < n; i++)
        {
            var exact = children * weights[i] / total;
            quotas[i] = (int)Math.Floor(exact);
            fractions[i] = weights[i] > 0 ? exact - quotas[i] : double.NegativeInfinity;
            assigned += quotas[i];
        }
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            var byFraction = fractions[b].CompareTo(fractions[a]);
            if (Math.Abs(fractions[a] - fractions[b]) > 1e-9 && byFraction != 0) return byFraction;
            var byCount = counts[a].CompareTo(counts[b]);
            return byCount != 0 ? byCount : string.CompareOrdinal(candidates[a].NodeId, candidates[b].NodeId);
        });
        for (var k = 0; assigned < children && k < n; k++)
        {
            if (weights[order[k]] <= 0) continue;
            quotas[order[k]]++;
            assigned++;
        }
        return quotas;
    }

    /// <summary>
    /// The highest-scoring candidate below its quota; when every one is full (siblings that keep their
    /// parent can overfill a quota after the set changed), the one least over its quota.
    /// </summary>
    private static int BestWithRoom(string child, IReadOnlyList<ParentCandidate> candidates, double[] weights, int[] counts, int[] quotas)
    {
        int best = -1, fallback = -1;
        double bestScore = double.NegativeInfinity, fallbackScore = double.NegativeInfinity;
        var fallbackOver = int.MaxValue;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (weights[i] <= 0) continue;
            var score = RendezvousHash.Score(child, candidates[i].NodeId, weights[i]);
            if (counts[i] < quotas[i])
            {
                if (best < 0 || score > bestScore) { best = i; bestScore = score; }
                continue;
            }
            var over = counts[i] - quotas[i];
            if (fallback < 0 || over < fallbackOver || (over == fallbackOver && score > fallbackScore))
            {
                fallback = i;
                fallbackOver = over;
                fallbackScore = score;
            }
        }
        return best >= 0 ? best : fallback;
    }
}
