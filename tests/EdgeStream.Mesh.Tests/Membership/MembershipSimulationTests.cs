using System.Net;
using EdgeStream.Mesh.Gossip;
using EdgeStream.Mesh.Membership;
using EdgeStream.Mesh.Membership.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace EdgeStream.Mesh.Tests.Membership;

/// <summary>
/// SWIM + Lifeguard against the simulated network, on virtual time: each test is deterministic
/// under its seed and runs minutes of protocol time in seconds. Library defaults throughout
/// (probe 150 ms / timeout 60 ms, suspicion 2–6 s), except where a test says otherwise.
/// </summary>
public class MembershipSimulationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    /// <summary>A cluster of <paramref name="members"/> joined through the first and converged; the recorder watches from the start.</summary>
    private static (SimulatedCluster Cluster, FailureRecorder Recorder) Converged(int seed, int members, MembershipOptions? template = null, TimeSpan? within = null)
    {
        var cluster = new SimulatedCluster(seed, template);
        var recorder = new FailureRecorder(cluster);
        cluster.AddMembers(members);
        cluster.JoinAll();
        Assert.True(cluster.RunUntil(cluster.Converged, within ?? Settle), $"{members} members did not converge after the joins");
        return (cluster, recorder);
    }

    public static TheoryData<int, int> DetectionMatrix => new()
    {
        { 10, 0 }, { 10, 5 }, { 10, 20 },
        { 50, 0 }, { 50, 5 }, { 50, 20 },
        { 200, 0 }, { 200, 5 }, { 200, 20 },
    };

    /// <summary>
    /// Bounds: the earliest possible verdict is one probe interval plus the 2 s minimum suspicion;
    /// the first probe of a crashed member comes after ~0.7 s at p99 (about one probe per 150 ms
    /// reaches it), and confirmations shrink the suspicion to its minimum within a few intervals:
    /// 3.5 s holds every kill at 0 and 5 % loss. At 20 % loss (a probe then fails outright ~7 % of
    /// the time, direct and all three indirect paths lost) confirmations and refutations take longer:
    /// detection within 5 s, and false verdicts at most one per 25 member-minutes, each refuted at
    /// once (the member comes back alive by itself).
    /// </summary>
    [Theory]
    [MemberData(nameof(DetectionMatrix))]
    public void DetectFailure_KilledMembersUnderLoss_DetectedInBoundWithoutFalsePositives(int members, int lossPercent)
    {
        var (cluster, recorder) = Converged(seed: members * 100 + lossPercent, members);
        cluster.Network.LossRate = lossPercent / 100.0;
        var start = cluster.Clock.Elapsed;
        var random = new Random(members + lossPercent);
        var kills = members >= 200 ? 2 : 6;
        for (var k = 0; k < kills; k++)
        {
            var victim = cluster[1 + random.Next(members - 1)];
            recorder.Kill(victim);
            cluster.RunFor(TimeSpan.FromSeconds(6));
            cluster.Restart(victim, cluster[0]);
            cluster.RunFor(TimeSpan.FromSeconds(6));
        }
        var memberMinutes = members * (cluster.Clock.Elapsed - start).TotalMinutes;
        output.WriteLine($"{members} members, {lossPercent}% loss: detections [{string.Join(", ", recorder.Detections.Select(d => d.ToString("F2")))}] s; " +
            $"false suspicions {recorder.FalseSuspicions}, false verdicts {recorder.FalseVerdicts.Count}, false views {recorder.FalseViews} over {memberMinutes:F0} member-minutes");
        foreach (var v in recorder.FalseVerdicts) output.WriteLine("  " + v);

        Assert.Equal(kills, recorder.Detections.Count);
        if (lossPercent <= 5)
        {
            Assert.All(recorder.Detections, d => Assert.InRange(d, 2.0, 3.5));
            Assert.Equal(0, recorder.FalseViews);
        }
        else
        {
            Assert.All(recorder.Detections, d => Assert.InRange(d, 2.0, 5.0));
            Assert.True(recorder.FalseVerdicts.Count <= Math.Max(1, memberMinutes / 25), $"{recorder.FalseVerdicts.Count} false verdicts");
        }
        // Once the loss stops, every view agrees again: restarted members refuted their old deaths.
        cluster.Network.LossRate = 0;
        Assert.True(cluster.RunUntil(cluster.Converged, Settle), "views did not agree after the run");
    }

    [Fact]
    public void Join_FiftyMembersThroughOneSeed_EveryViewHasEveryoneAndDatagramsStayUnder1400Bytes()
    {
        var (cluster, _) = Converged(seed: 1, members: 50, within: TimeSpan.FromSeconds(10));
        foreach (var m in cluster.Members)
            Assert.Equal(50, m.Membership.Members.Count(x => x.State == MemberState.Alive));
        // 49 joins queued as alive updates at once: piggybacking packed datagrams to the limit, never past it.
        Assert.InRange(cluster.Network.LargestDatagram, 1000, GossipCodec.MaxDatagramBytes);
    }

    [Fact]
    public void Restart_KilledMemberBackWithoutSeeds_TheOthersReconnectItWithinTheReconnectInterval()
    {
        var (cluster, _) = Converged(seed: 3, members: 5);
        var victim = cluster[4];
        cluster.Kill(victim);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(15)), "the killed member was not declared dead");
        var restartedAt = cluster.Clock.Elapsed;
        // It knows nobody, and nobody probes the dead: only the others' reconnect attempts find it.
        cluster.Restart(victim, seed: null);
        var interval = TimeSpan.FromSeconds(10); // MembershipOptions.ReconnectInterval, the default the cluster runs with
        Assert.True(cluster.RunUntil(cluster.Converged, interval * 1.5 + TimeSpan.FromSeconds(2)), "the restarted member was not listed alive by everyone");
        output.WriteLine($"listed alive everywhere {(cluster.Clock.Elapsed - restartedAt).TotalSeconds:F1} s after the restart");
        Assert.All(cluster.Members, m => Assert.Equal(5, m.Membership.Members.Count(x => x.State == MemberState.Alive)));
    }

    [Fact]
    public void Leave_ThreeOfTwentyLeaveGracefully_AllSeeLeftNoneSeesFailed()
    {
        var (cluster, _) = Converged(seed: 2, members: 20);
        var failed = 0;
        cluster.Changed += (_, e) => failed += e.Kind == MemberChangeKind.Failed ? 1 : 0;
        cluster.Network.LossRate = 0.05;
        var leaving = new[] { cluster[3], cluster[7], cluster[11] };
        var tasks = leaving.Select(cluster.LeaveAsync).ToList();
        var left = cluster.RunUntil(() => leaving.All(m => cluster.CountViews(m, MemberState.Left) == 17), TimeSpan.FromSeconds(2));
        Assert.True(left, "not every member saw the three leaves within 2 s");
        cluster.RunFor(TimeSpan.FromSeconds(5));
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(0, failed);
        Assert.True(cluster.Converged());
    }

    [Fact]
    public void Partition_TwoWayThenHealed_MergesIntoOneAgreeingMembershipThroughPushPull()
    {
        var (cluster, _) = Converged(seed: 3, members: 20, new MembershipOptions { NodeId = "x", Role = "edge", PushPullInterval = TimeSpan.FromSeconds(10) });
        var a = cluster.Members.Take(10).ToList();
        var b = cluster.Members.Skip(10).ToList();
        cluster.Network.Partition(a.Select(m => m.EndPoint), b.Select(m => m.EndPoint));
        cluster.RunFor(TimeSpan.FromSeconds(20));
        // Each side declared the other dead and still agrees within itself.
        Assert.Equal(10, cluster.CountViews(a[0], MemberState.Dead));
        Assert.Equal(10, cluster.CountViews(b[0], MemberState.Dead));
        Assert.Equal(9, cluster.CountViews(a[0], MemberState.Alive));

        cluster.Network.Heal();
        // Probes never cross to members held dead: only push-pull (which also picks dead members) can merge the halves.
        var merged = cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(60));
        output.WriteLine($"merged {merged} at {cluster.Clock.Elapsed}; push-pulls {cluster.Members.Sum(m => m.Membership.Stats.PushPulls)}");
        Assert.True(merged, "the halves did not merge within 60 s of the heal");
        foreach (var m in cluster.Members)
            Assert.All(m.Membership.Members, x => Assert.Equal(MemberState.Alive, x.State));
    }

    [Fact]
    public void Partition_OneWayIntoOneMember_OnlyThatMemberIsDeclaredDead()
    {
        var (cluster, recorder) = Converged(seed: 4, members: 20);
        var deaf = cluster[5];
        // Everything towards the member is lost; what it sends still arrives (a broken receive path).
        cluster.Network.Partition(cluster.Members.Where(m => m != deaf).Select(m => m.EndPoint), [deaf.EndPoint], oneWay: true);
        cluster.RunFor(TimeSpan.FromSeconds(20));
        Assert.Equal(19, cluster.CountViews(deaf, MemberState.Dead));
        // Its own probes all failed, so it accused others; they heard and refuted (its messages still arrive).
        foreach (var m in cluster.Members.Where(m => m != deaf))
            Assert.Equal(18, cluster.CountViews(m, MemberState.Alive) - (deaf.Membership.TryGetMember(m.NodeId, out var v) && v.State == MemberState.Alive ? 1 : 0));
        Assert.True(recorder.FalseVerdicts.All(v => v.StartsWith(deaf.NodeId + " ", StringComparison.Ordinal) || v.Contains(" declared " + deaf.NodeId + " ", StringComparison.Ordinal)),
            string.Join("; ", recorder.FalseVerdicts));
        // Lifeguard: missing every ack and nack, it slowed itself down instead of probing at full rate.
        Assert.Equal(7, deaf.Membership.HealthScore);

        cluster.Network.Heal();
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(60)), "no agreement after the heal");
    }

    [Fact]
    public void Pause_MemberFrozenForTwoSeconds_IsSuspectedAndRefutesWithoutBeingDeclaredDead()
    {
        var (cluster, recorder) = Converged(seed: 5, members: 30);
        var paused = cluster[12];
        var suspected = 0;
        cluster.Changed += (_, e) => suspected += e.Member.NodeId == paused.NodeId && e.Kind == MemberChangeKind.Suspected ? 1 : 0;
        var before = paused.Membership.Local.Incarnation;

        // Ten pauses at different phases of the probe cycle: the worst case is a probe sent just after it froze.
        for (var i = 0; i < 10; i++)
        {
            cluster.Network.Pause(paused.EndPoint, TimeSpan.FromSeconds(2));
            cluster.RunFor(TimeSpan.FromSeconds(2 + (i * 0.37 % 1)));
            Assert.True(cluster.RunUntil(() => cluster.CountViews(paused, MemberState.Alive) == 29, TimeSpan.FromSeconds(3)), $"pause {i}: not alive everywhere again");
            cluster.RunFor(TimeSpan.FromSeconds(7));
        }
        output.WriteLine($"suspected {suspected} times; incarnation {before} -> {paused.Membership.Local.Incarnation}; refutations {paused.Membership.Stats.Refutations}");
        Assert.True(suspected > 0, "a 2 s pause should at least be suspected");
        Assert.True(paused.Membership.Stats.Refutations >= 10, "each pause should have been refuted");
        Assert.Equal(0, recorder.FalseViews);
    }

    [Fact]
    public void ForgedIncarnation_SuspectAndDeadAboutALiveMember_AreRefutedNotFatal()
    {
        var (cluster, recorder) = Converged(seed: 6, members: 20);
        var victim = cluster[9];
        var forger = cluster.Network.Attach(new IPEndPoint(IPAddress.Parse("10.9.9.9"), 7946));
        var codec = new GossipCodec("edgestream", "site");
        var datagram = new DatagramBuilder();
        datagram.Begin(codec, GossipMessageType.Gossip, "forger", 0);
        datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Suspect(victim.NodeId, 1_000, "forger")));
        datagram.TryAppend(GossipCodec.EncodeUpdate(MemberUpdate.Dead(victim.NodeId, 5_000, "forger")));
        foreach (var target in new[] { cluster[0], cluster[4], cluster[15] })
            forger.SendDatagram(target.EndPoint, datagram.Datagram);

        Assert.True(cluster.RunUntil(() => cluster.CountViews(victim, MemberState.Alive) == 19 && victim.Membership.Local.Incarnation > 5_000, TimeSpan.FromSeconds(10)),
            "the victim did not outbid the forged incarnations everywhere");
        cluster.RunFor(TimeSpan.FromSeconds(10));
        Assert.Equal(0, recorder.FalseViews);
        Assert.Equal(19, cluster.CountViews(victim, MemberState.Alive));
    }

    [Fact]
    public void HealthAwareness_MemberMissingItsOwnAcks_ProbesSlowerAndRecovers()
    {
        var (cluster, _) = Converged(seed: 7, members: 10);
        var sick = cluster[3];
        var healthy = cluster[4];
        // 90 % of what reaches the sick member is lost (an overloaded NIC or a saturated Wi-Fi client).
        var probesSick = sick.Membership.Stats.Probes;
        var probesHealthy = healthy.Membership.Stats.Probes;
        cluster.Network.Partition(cluster.Members.Where(m => m != sick).Select(m => m.EndPoint), [sick.EndPoint], oneWay: true);
        cluster.RunFor(TimeSpan.FromSeconds(30));
        probesSick = sick.Membership.Stats.Probes - probesSick;
        probesHealthy = healthy.Membership.Stats.Probes - probesHealthy;
        output.WriteLine($"health {sick.Membership.HealthScore}; probes in 30 s: sick {probesSick}, healthy {probesHealthy}");
        Assert.Equal(7, sick.Membership.HealthScore);
        Assert.True(probesSick * 4 < probesHealthy, $"sick {probesSick} vs healthy {probesHealthy} probes");
        Assert.Equal(0, healthy.Membership.HealthScore);

        cluster.Network.Heal();
        Assert.True(cluster.RunUntil(() => sick.Membership.HealthScore == 0, TimeSpan.FromSeconds(60)), "health did not recover");
    }

    [Fact]
    public void UpdateLoad_NewLoad_ReachesEveryMember()
    {
        var (cluster, _) = Converged(seed: 8, members: 30);
        var gateway = cluster[2];
        var load = new MemberLoad(BacklogBytes: 123_456, Children: 17, DiskFreeBytes: 9_000_000_000);
        gateway.Membership.UpdateLoad(load);
        Assert.True(cluster.RunUntil(() => cluster.Members.All(m => m.Membership.TryGetMember(gateway.NodeId, out var g) && g.Metadata.Load == load), TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void Scopes_ForeignClusterAndScopeOnOneNetwork_StayApartAndAreCounted()
    {
        var cluster = new SimulatedCluster(seed: 9);
        cluster.AddMembers(4);
        cluster.AddMembers(4, o => o with { Scope = "upstream" });
        cluster.AddMembers(4, o => o with { ClusterName = "other-fleet" });
        // Each group joins through its own first member, then one member of each foreign group tries ours.
        foreach (var group in new[] { 0, 4, 8 })
            foreach (var m in cluster.Members.Skip(group + 1).Take(3))
                _ = m.Membership.JoinAsync([cluster[group].EndPoint]);
        _ = cluster[5].Membership.JoinAsync([cluster[0].EndPoint]);
        _ = cluster[9].Membership.JoinAsync([cluster[0].EndPoint]);
        cluster.RunFor(TimeSpan.FromSeconds(10));
        foreach (var group in new[] { 0, 4, 8 })
            foreach (var m in cluster.Members.Skip(group).Take(4))
                Assert.Equal(cluster.Members.Skip(group).Take(4).Select(x => x.NodeId).Order(), m.Membership.Members.Select(x => x.NodeId).Order());
        Assert.True(cluster[0].Membership.Stats.ForeignScope > 0);
        Assert.True(cluster[0].Membership.Stats.ForeignCluster > 0);
    }

    [Fact]
    public void Simulation_SameSeedTwice_SameOutcome()
    {
        static string Run()
        {
            var cluster = new SimulatedCluster(seed: 10);
            cluster.AddMembers(30);
            cluster.JoinAll();
            cluster.Network.LossRate = 0.1;
            cluster.RunFor(TimeSpan.FromSeconds(5));
            cluster.Kill(cluster[7]);
            cluster.RunFor(TimeSpan.FromSeconds(10));
            return string.Join(";", cluster.Members.Select(m => $"{m.Membership.Stats.BytesSent}/{m.Membership.Stats.Suspicions}/{m.Membership.Local.Incarnation}"));
        }
        Assert.Equal(Run(), Run());
    }
}
