using System.Net;
using EdgeStream.Mesh.Membership;
using EdgeStream.Mesh.ParentChoice;
using Xunit;
using Xunit.Abstractions;

namespace EdgeStream.Mesh.Tests.ParentChoice;

public class ParentChoiceTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Tiers = ["gateway", "cloud"];
    private static readonly ParentChoiceOptions Options = new() { EligibleRoles = Tiers };

    private static ParentCandidate Gateway(string id, MemberState state = MemberState.Alive, DateTimeOffset? since = null, MemberLoad load = default, string role = "gateway") =>
        new(id, role, state, since ?? T0.AddHours(-1), load);

    private static int[] Assign(IEnumerable<string> children, IReadOnlyList<ParentCandidate> gateways, Func<MemberLoad, double> weight)
    {
        var counts = new int[gateways.Count];
        foreach (var child in children) counts[RendezvousHash.Choose(child, gateways, weight)]++;
        return counts;
    }

    [Fact]
    public void Hash_KnownInputs_StableAcrossVersions()
    {
        // A child's choice must survive restarts and upgrades: these values are part of the behaviour.
        Assert.Equal(0xCE650C2C5921D27DUL, RendezvousHash.Hash("edge-1", "gw-1"));
        Assert.NotEqual(RendezvousHash.Hash("ab", "c"), RendezvousHash.Hash("a", "bc"));
    }

    /// <summary>
    /// Rendezvous hashing assigns each child independently, so 100 children over 3 equal gateways
    /// follow a multinomial(100, ⅓, ⅓, ⅓): its max−min is ≤ 10 with probability 0.60 and ≤ 22 with
    /// 0.984 (computed exactly). The fleet below must land inside that 98 % band; the next test shows
    /// the hash really behaves like the multinomial (neither biased nor clumped).
    /// </summary>
    [Fact]
    public void Choose_100EdgesOver3EqualGateways_SpreadWithinTheMultinomialBand()
    {
        var gateways = new[] { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var counts = Assign(Enumerable.Range(0, 100).Select(i => $"edge-{i:D3}"), gateways, ParentWeights.Equal);
        output.WriteLine($"edge-000..edge-099 over gateway-a/b/c: {string.Join("/", counts)}");
        Assert.Equal(100, counts.Sum());
        Assert.InRange(counts.Max() - counts.Min(), 0, 22);
    }

    [Fact]
    public void Choose_ManyFleets_SpreadMatchesTheMultinomialAndSharesMatchWeights()
    {
        var gateways = new[] { Gateway("gw-north"), Gateway("gw-south"), Gateway("gw-east") };
        // 2000 fleets of 100 children with unrelated names: the fraction with max−min ≤ 10 is 0.598 in theory.
        var within10 = 0;
        for (var fleet = 0; fleet < 2000; fleet++)
        {
            var counts = Assign(Enumerable.Range(0, 100).Select(i => $"site{fleet}-edge-{i}"), gateways, ParentWeights.Equal);
            if (counts.Max() - counts.Min() <= 10) within10++;
        }
        output.WriteLine($"fleets with max-min <= 10: {within10 / 2000.0:P1} (theory 59.8 %)");
        Assert.InRange(within10 / 2000.0, 0.56, 0.64);

        // Weights 2:1:1 take 50/25/25 % of 100 000 children (±1 %).
        var weighted = new[] { Gateway("gw-north", load: new MemberLoad(0, 0, 0)), Gateway("gw-south", load: new MemberLoad(1, 0, 0)), Gateway("gw-east", load: new MemberLoad(1, 0, 0)) };
        var shares = Assign(Enumerable.Range(0, 100_000).Select(i => $"edge-{i}"), weighted, l => l.BacklogBytes == 0 ? 2.0 : 1.0);
        Assert.InRange(shares[0], 49_000, 51_000);
        Assert.InRange(shares[1], 24_000, 26_000);
        Assert.InRange(shares[2], 24_000, 26_000);
    }

    [Fact]
    public void Choose_OneGatewayDies_OnlyItsChildrenMove()
    {
        var three = new[] { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var two = new[] { three[0], three[2] };
        var moved = 0;
        var fromB = 0;
        for (var i = 0; i < 1000; i++)
        {
            var child = $"edge-{i}";
            var before = three[RendezvousHash.Choose(child, three, ParentWeights.Equal)].NodeId;
            var after = two[RendezvousHash.Choose(child, two, ParentWeights.Equal)].NodeId;
            if (before == "gateway-b") fromB++;
            else Assert.Equal(before, after);
            if (before != after) moved++;
        }
        Assert.Equal(fromB, moved);
        Assert.InRange(fromB, 280, 390);
    }

    /// <summary>
    /// Every child runs its own tracker over the same membership picture; what each reports as its
    /// parent is what its siblings see next round. Returns each child's parent after the round.
    /// </summary>
    private static Dictionary<string, string?> Round(Dictionary<string, ParentTracker> trackers, IReadOnlyList<ParentCandidate> members, Dictionary<string, string?> reported, DateTimeOffset now)
    {
        var next = new Dictionary<string, string?>();
        foreach (var (id, tracker) in trackers)
        {
            var siblings = reported.Where(kv => kv.Key != id).Select(kv => new SiblingChoice(kv.Key, kv.Value ?? "")).ToList();
            next[id] = tracker.Update(members, siblings, now).ParentId;
        }
        return next;
    }

    private static int[] Counts(Dictionary<string, string?> parents, params string[] gateways) =>
        gateways.Select(g => parents.Values.Count(p => p == g)).ToArray();

    [Fact]
    public void Balanced_100EdgesStartingTogetherOver3Gateways_Land34_33_33()
    {
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var trackers = Enumerable.Range(0, 100).ToDictionary(i => $"edge-{i:D3}", i => new ParentTracker($"edge-{i:D3}", Options));
        // They all start at once: none has a parent yet when the others choose.
        var parents = Round(trackers, gateways, trackers.Keys.ToDictionary(k => k, _ => (string?)null), T0);
        var counts = Counts(parents, "gateway-a", "gateway-b", "gateway-c");
        output.WriteLine($"100 edges over gateway-a/b/c: {string.Join("/", counts)}");
        // The odd child goes to the lowest node id when every gateway holds the same.
        Assert.Equal([34, 33, 33], counts);
        // Nothing moves on the next rounds: every child keeps a healthy parent.
        Assert.Equal(parents, Round(trackers, gateways, parents, T0.AddSeconds(1)));
    }

    [Fact]
    public void Balanced_EdgesArrivingOneByOne_SpreadEvenly()
    {
        var gateways = new List<ParentCandidate> { Gateway("gw-north"), Gateway("gw-south"), Gateway("gw-east") };
        var parents = new Dictionary<string, string?>();
        for (var i = 0; i < 100; i++)
        {
            var id = $"plc-{i}";
            var siblings = parents.Select(kv => new SiblingChoice(kv.Key, kv.Value!)).ToList();
            parents[id] = new ParentTracker(id, Options).Update(gateways, siblings, T0.AddSeconds(i)).ParentId;
            var counts = Counts(parents, "gw-north", "gw-south", "gw-east");
            Assert.InRange(counts.Max() - counts.Min(), 0, 1);
        }
    }

    [Fact]
    public void Balanced_OneOf3GatewaysDies_OnlyItsEdgesMoveAndSplitEvenly_ThenReturnWhenItIsBack()
    {
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var trackers = Enumerable.Range(0, 100).ToDictionary(i => $"edge-{i:D3}", i => new ParentTracker($"edge-{i:D3}", Options));
        var before = Round(trackers, gateways, trackers.Keys.ToDictionary(k => k, _ => (string?)null), T0);

        gateways[1] = gateways[1] with { State = MemberState.Dead, StateSince = T0.AddSeconds(10) };
        var after = Round(trackers, gateways, before, T0.AddSeconds(10));
        foreach (var (edge, parent) in before)
        {
            if (parent == "gateway-b") Assert.NotEqual("gateway-b", after[edge]);
            else Assert.Equal(parent, after[edge]);
        }
        var counts = Counts(after, "gateway-a", "gateway-b", "gateway-c");
        output.WriteLine($"after gateway-b died: {string.Join("/", counts)}");
        Assert.Equal([50, 0, 50], counts);

        // gateway-b comes back: its edges stay where they are for 30 s, then go home; nobody else moves.
        gateways[1] = gateways[1] with { State = MemberState.Alive, StateSince = T0.AddSeconds(20) };
        Assert.Equal(after, Round(trackers, gateways, after, T0.AddSeconds(49)));
        Assert.Equal(before, Round(trackers, gateways, after, T0.AddSeconds(50)));
    }

    [Fact]
    public void Balanced_ThirdGatewayJoins_ExistingEdgesStayPutAndNewEdgesFillIt()
    {
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b") };
        var trackers = Enumerable.Range(0, 60).ToDictionary(i => $"edge-{i:D3}", i => new ParentTracker($"edge-{i:D3}", Options));
        var parents = Round(trackers, gateways, trackers.Keys.ToDictionary(k => k, _ => (string?)null), T0);
        Assert.Equal([30, 30], Counts(parents, "gateway-a", "gateway-b"));

        gateways.Add(Gateway("gateway-c", since: T0.AddSeconds(5)));
        // Long after it joined, no existing edge has moved.
        var later = Round(trackers, gateways, parents, T0.AddMinutes(10));
        Assert.Equal(parents, later);

        // 30 new edges arrive one by one: all go to gateway-c, the one below its share.
        for (var i = 60; i < 90; i++)
        {
            var id = $"edge-{i:D3}";
            trackers[id] = new ParentTracker(id, Options);
            var siblings = later.Select(kv => new SiblingChoice(kv.Key, kv.Value!)).ToList();
            later[id] = trackers[id].Update(gateways, siblings, T0.AddMinutes(10).AddSeconds(i)).ParentId;
        }
        Assert.Equal([30, 30, 30], Counts(later, "gateway-a", "gateway-b", "gateway-c"));
    }

    [Fact]
    public void Balanced_WeightsSetTheQuotas()
    {
        // gw-full is past 1 GiB of its own backlog: half the weight, so half the share of the others.
        var gateways = new[] { Gateway("gw-1"), Gateway("gw-2"), Gateway("gw-full", load: new MemberLoad(2L << 30, 0, 0)) };
        var trackers = Enumerable.Range(0, 100).ToDictionary(i => $"e{i}", i => new ParentTracker($"e{i}", Options));
        var parents = Round(trackers, gateways, trackers.Keys.ToDictionary(k => k, _ => (string?)null), T0);
        Assert.Equal([40, 40, 20], Counts(parents, "gw-1", "gw-2", "gw-full"));
    }

    [Fact]
    public void Balanced_LeftHomeIsGivenUp_DeadHomeIsAwaited()
    {
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b") };
        var tracker = new ParentTracker("edge-9", Options);
        var home = tracker.Update(gateways, T0).ParentId!;
        var h = gateways.FindIndex(g => g.NodeId == home);
        gateways[h] = gateways[h] with { State = MemberState.Dead, StateSince = T0.AddSeconds(1) };
        var other = tracker.Update(gateways, T0.AddSeconds(1)).ParentId!;
        Assert.Equal(home, tracker.Home);
        // It leaves for good (decommissioned) instead of coming back: the child stops waiting for it.
        gateways[h] = gateways[h] with { State = MemberState.Left, StateSince = T0.AddSeconds(5) };
        Assert.Equal(other, tracker.Update(gateways, T0.AddSeconds(5)).ParentId);
        Assert.Equal(other, tracker.Home);
    }

    [Fact]
    public void FromLoad_BacklogAndDisk_CoarseSteps()
    {
        Assert.Equal(1.0, ParentWeights.FromLoad(new MemberLoad(0, 500, 0)));
        Assert.Equal(1.0, ParentWeights.FromLoad(new MemberLoad((1L << 30) - 1, 0, 100L << 30)));
        Assert.Equal(0.5, ParentWeights.FromLoad(new MemberLoad(1L << 30, 0, 0)));
        Assert.Equal(0.25, ParentWeights.FromLoad(new MemberLoad(10L << 30, 0, 0)));
        Assert.Equal(0.125, ParentWeights.FromLoad(new MemberLoad(2L << 30, 0, 1L << 20)));
    }

    [Fact]
    public void Update_ParentSuspectThenDead_StaysOnSuspectMovesOnDeath()
    {
        var tracker = new ParentTracker("edge-007", Options);
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var first = tracker.Update(gateways, T0);
        Assert.True(first.Changed);
        Assert.NotNull(first.ParentId);
        output.WriteLine(first.Reason);

        var i = gateways.FindIndex(g => g.NodeId == first.ParentId);
        gateways[i] = gateways[i] with { State = MemberState.Suspect, StateSince = T0.AddSeconds(1) };
        var suspect = tracker.Update(gateways, T0.AddSeconds(1));
        Assert.False(suspect.Changed);
        Assert.Equal($"parent {first.ParentId} suspect: staying until membership decides", suspect.Reason);

        gateways[i] = gateways[i] with { State = MemberState.Dead, StateSince = T0.AddSeconds(3) };
        var dead = tracker.Update(gateways, T0.AddSeconds(3));
        Assert.True(dead.Changed);
        Assert.NotEqual(first.ParentId, dead.ParentId);
        Assert.StartsWith($"parent {first.ParentId} dead; chose {dead.ParentId}", dead.Reason);
    }

    [Fact]
    public void Update_FlappingPreferredParent_NoReturnUntilAliveFor30s()
    {
        var gateways = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var tracker = new ParentTracker("edge-042", Options);
        var preferred = tracker.Update(gateways, T0).ParentId!;
        var p = gateways.FindIndex(g => g.NodeId == preferred);
        var now = T0;
        string? fallback = null;
        // The preferred gateway dies and comes back every 20 s for five minutes.
        for (var cycle = 0; cycle < 15; cycle++)
        {
            now = now.AddSeconds(10);
            gateways[p] = gateways[p] with { State = MemberState.Dead, StateSince = now };
            var d = tracker.Update(gateways, now);
            Assert.NotEqual(preferred, d.ParentId);
            fallback ??= d.ParentId;
            Assert.Equal(fallback, d.ParentId);
            now = now.AddSeconds(10);
            gateways[p] = gateways[p] with { State = MemberState.Alive, StateSince = now };
            for (var s = 0; s < 10; s++)
            {
                var stay = tracker.Update(gateways, now.AddSeconds(s));
                Assert.Equal(fallback, stay.ParentId);
            }
        }
        // Then it stays up: the child returns once it has been alive for 30 s, not before.
        var early = tracker.Update(gateways, now.AddSeconds(29));
        Assert.Equal(fallback, early.ParentId);
        Assert.Equal($"staying on {fallback}: preferred parent {preferred} alive for only 29s of 30s", early.Reason);
        var back = tracker.Update(gateways, now.AddSeconds(30));
        Assert.Equal(preferred, back.ParentId);
        Assert.Equal($"preferred parent {preferred} alive for 30s", back.Reason);
    }

    [Fact]
    public void Update_NoGatewayAlive_FallsBackToCloudAndReturnsToAGateway()
    {
        var members = new List<ParentCandidate> { Gateway("gateway-a", MemberState.Dead), Gateway("cloud-1", role: "cloud"), Gateway("edge-2", role: "edge") };
        var tracker = new ParentTracker("edge-1", Options);
        var d = tracker.Update(members, T0);
        Assert.Equal("cloud-1", d.ParentId);
        Assert.Equal("no parent yet; chose cloud-1 (balanced rendezvous over 1 alive cloud candidates)", d.Reason);
        members[0] = members[0] with { State = MemberState.Alive, StateSince = T0.AddSeconds(5) };
        Assert.Equal("cloud-1", tracker.Update(members, T0.AddSeconds(20)).ParentId);
        Assert.Equal("gateway-a", tracker.Update(members, T0.AddSeconds(35)).ParentId);

        members[0] = members[0] with { State = MemberState.Left, StateSince = T0.AddSeconds(40) };
        members[1] = members[1] with { State = MemberState.Dead, StateSince = T0.AddSeconds(40) };
        var none = tracker.Update(members, T0.AddSeconds(41));
        Assert.Null(none.ParentId);
        Assert.Equal("parent gateway-a left; no eligible parent alive", none.Reason);
    }

    [Fact]
    public void Update_ForcedMove_PrefersAStableGatewayOverOneJustBack()
    {
        var members = new List<ParentCandidate> { Gateway("gateway-a"), Gateway("gateway-b"), Gateway("gateway-c") };
        var tracker = new ParentTracker("edge-5", Options);
        var current = tracker.Update(members, T0).ParentId!;
        var others = members.Where(m => m.NodeId != current).Select(m => m.NodeId).ToList();
        // Whichever the rendezvous would pick among the other two has only just come back.
        var justBack = RendezvousHash.Choose("edge-5", members.Where(m => m.NodeId != current).ToList(), ParentWeights.FromLoad) == 0 ? others[0] : others[1];
        var stable = others.Single(o => o != justBack);
        var j = members.FindIndex(m => m.NodeId == justBack);
        members[j] = members[j] with { StateSince = T0.AddSeconds(55) };
        var c = members.FindIndex(m => m.NodeId == current);
        members[c] = members[c] with { State = MemberState.Dead, StateSince = T0.AddSeconds(60) };
        Assert.Equal(stable, tracker.Update(members, T0.AddSeconds(60)).ParentId);
    }

    [Fact]
    public void Evaluate_OperatorParentList_FlagsKnownDeadAndSkipsThem()
    {
        static Member M(string id, string uplink, MemberState state) =>
            new(id, state, 1, new MemberMetadata { Role = "gateway", UplinkAddress = uplink, GossipEndPoint = new IPEndPoint(IPAddress.Loopback, 7946) }, T0);
        var members = new[]
        {
            M("gw-1", "gw1.plant:9095", MemberState.Dead),
            M("gw-2-old", "gw2.plant:9095", MemberState.Dead),
            M("gw-2", "GW2.plant:9095", MemberState.Alive),
            M("gw-3", "gw3.plant:9095", MemberState.Left),
        };
        var statuses = ParentListHealth.Evaluate(["gw1.plant:9095", "gw3.plant:9095", "gw2.plant:9095", "unknown:9095"], members);
        Assert.Equal([true, true, false, false], statuses.Select(s => s.KnownDead));
        Assert.Equal("gw-2", statuses[2].NodeId);
        Assert.Null(statuses[3].State);
        Assert.Equal(2, ParentListHealth.FirstNotKnownDead(statuses));
        Assert.Equal(-1, ParentListHealth.FirstNotKnownDead(statuses.Take(2).ToList()));

        // A parent listed by its node id as host name matches that member; the node itself never does.
        var byId = ParentListHealth.Evaluate(["GW-9:9095", "edge-1:9095"], [M("gw-9", "", MemberState.Dead), M("edge-1", "edge-1:9095", MemberState.Alive)], self: "edge-1");
        Assert.Equal(("gw-9", true), (byId[0].NodeId, byId[0].KnownDead));
        Assert.Null(byId[1].NodeId);
    }
}
