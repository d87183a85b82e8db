using EdgeStream.Mesh.Membership;
using System.Text;

namespace EdgeStream.Mesh.ParentChoice;

/// <summary>
/// Weighted rendezvous (highest-random-weight) hashing: every child scores every candidate with
/// score = −w / ln(h), h a hash of (child, candidate) mapped into (0, 1), and takes the highest.
/// A candidate wins a share of children proportional to its weight, and when one leaves only the
/// children it had move (every other pair's score is unchanged). Pure functions, no state.
/// </summary>
public static class RendezvousHash
{
    /// <summary>
    /// 64-bit FNV-1a over the UTF-8 bytes of child, a 0xFF separator (never in UTF-8, so "ab"+"c" and
    /// "a"+"bc" differ) and candidate, then the splitmix64 finalizer, because FNV alone leaves
    /// similar names (edge-001, edge-002) with correlated high bits. Stable across processes and
    /// versions: a child's choice must not change when it restarts.
    /// </summary>
    public static ulong Hash(string child, string candidate)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var h = offset;
        h = Mix(h, child, prime);
        h = (h ^ 0xFF) * prime;
        h = Mix(h, candidate, prime);
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9UL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebUL;
        h ^= h >> 31;
        return h;
    }

    /// <summary>The rendezvous score of <paramref name="candidate"/> for <paramref name="child"/>; −∞ for a weight of 0.</summary>
    public static double Score(string child, string candidate, double weight)
    {
        if (!(weight > 0)) return double.NegativeInfinity;
        // The top 53 bits, centred in their interval: strictly inside (0, 1), so ln is finite and negative.
        var unit = ((Hash(child, candidate) >> 11) + 0.5) / (1UL << 53);
        return -weight / Math.Log(unit);
    }

    /// <summary>Index of the highest-scoring candidate, or -1 when none has a positive weight. Ties go to the lower node id.</summary>
    public static int Choose(string child, IReadOnlyList<ParentCandidate> candidates, Func<MemberLoad, double> weight)
    {
        var best = -1;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i < candidates.Count; i++)
        {
            var score = Score(child, candidates[i].NodeId, weight(candidates[i].Load));
            if (score == double.NegativeInfinity) continue;
            if (best < 0 || score > bestScore || (score == bestScore && string.CompareOrdinal(candidates[i].NodeId, candidates[best].NodeId) < 0))
            {
                best = i;
                bestScore = score;
            }
        }
        return best;
    }

    private static ulong Mix(ulong h, string s, ulong prime)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(s) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(s, buffer)] : Encoding.UTF8.GetBytes(s);
        foreach (var b in bytes) h = (h ^ b) * prime;
        return h;
    }
}
