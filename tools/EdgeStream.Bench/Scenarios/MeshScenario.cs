using System.Diagnostics;
using System.Globalization;
using EdgeStream.Mesh.Membership;
using EdgeStream.Mesh.Membership.Simulation;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mesh: failure detection of the SWIM membership on the simulated network (virtual time, so a
/// 10-minute run takes seconds and replays under its seed). Every ~20 s a random member is killed
/// (no leave) and restarted 30 s later under the same id; detection is the time from the kill to
/// the first "dead" verdict anywhere, "all know" until every running member holds it dead. False
/// positives are running members declared dead. The peer row is the same engine with memberlist's
/// LAN timings (1 s probe interval, 500 ms timeout, suspicion 4·log10(n) s stretched up to 6×).
/// </summary>
public static class MeshScenario
{
    public static Task<int> RunAsync(BenchArgs args)
    {
        var sizes = args.String("members", "50,200").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var lossPercent = args.Int("loss", 5);
        var minutes = args.Int("minutes", 10);
        var seed = args.Int("seed", 1);
        Console.WriteLine($"mesh: {minutes} simulated minutes per row, {lossPercent} % datagram loss, latency 0.5-5 ms, a kill every ~20 s (restart 30 s later), seed {seed}");
        Report.Header("config", "members", "kills", "detect p50 s", "detect p99 s", "detect max s", "all know p99 s", "false positives", "false suspicions", "gossip B/s/member", "with push-pull B/s/member", "wall s");
        foreach (var n in sizes)
        {
            Run("edgestream defaults (150 ms / 60 ms / 2-6 s)", n, lossPercent, minutes, seed, new MembershipOptions { NodeId = "x", Role = "edge" });
            var min = TimeSpan.FromSeconds(4 * Math.Max(1, Math.Log10(n)));
            Run("memberlist LAN timings (1 s / 500 ms / mult 4)", n, lossPercent, minutes, seed, new MembershipOptions
            {
                NodeId = "x",
                Role = "edge",
                ProbeInterval = TimeSpan.FromSeconds(1),
                ProbeTimeout = TimeSpan.FromMilliseconds(500),
                SuspicionMinTimeout = min,
                SuspicionMaxTimeout = min * 6,
                SuspicionConfirmations = 2,
            });
        }
        return Task.FromResult(0);
    }

    private static void Run(string config, int members, int lossPercent, int minutes, int seed, MembershipOptions template)
    {
        var wall = Stopwatch.StartNew();
        var cluster = new SimulatedCluster(seed * 1000 + members, template);
        var recorder = new FailureRecorder(cluster);
        cluster.AddMembers(members);
        cluster.JoinAll();
        if (!cluster.RunUntil(cluster.Converged, TimeSpan.FromMinutes(1)))
            throw new InvalidOperationException($"{members} members did not converge");
        cluster.Network.LossRate = lossPercent / 100.0;
        var datagramBytes = cluster.Network.DatagramBytesSent;
        var streamBytes = cluster.Network.StreamBytesSent;
        var random = new Random(seed);
        var kills = 0;
        var start = cluster.Clock.Elapsed;
        var end = start + TimeSpan.FromMinutes(minutes);
        var nextKill = start + NextGap(random);
        var revives = new Queue<(TimeSpan At, SimulatedMember Member)>();
        while (cluster.Clock.Elapsed < end)
        {
            var next = revives.Count > 0 && revives.Peek().At < nextKill ? revives.Peek().At : nextKill;
            if (next > end) next = end;
            cluster.RunFor(next - cluster.Clock.Elapsed);
            while (revives.Count > 0 && revives.Peek().At <= cluster.Clock.Elapsed) cluster.Restart(revives.Dequeue().Member, cluster[0]);
            if (cluster.Clock.Elapsed < nextKill || cluster.Clock.Elapsed >= end) continue;
            var candidates = cluster.Members.Skip(1).Where(m => m.IsRunning).ToList();
            var victim = candidates[random.Next(candidates.Count)];
            recorder.Kill(victim);
            kills++;
            revives.Enqueue((cluster.Clock.Elapsed + TimeSpan.FromSeconds(30), victim));
            nextKill = cluster.Clock.Elapsed + NextGap(random);
        }
        var seconds = (double)minutes * 60;
        var gossip = (cluster.Network.DatagramBytesSent - datagramBytes) / (members * seconds);
        var all = gossip + (cluster.Network.StreamBytesSent - streamBytes) / (members * seconds);
        var d = recorder.Detections.Order().ToList();
        var a = recorder.AllAware.Order().ToList();
        Report.Row(config, members, kills, Percentile(d, 0.5), Percentile(d, 0.99), d.Count > 0 ? d[^1] : double.NaN, Percentile(a, 0.99),
            recorder.FalseViews, recorder.FalseSuspicions, gossip, all, wall.Elapsed.TotalSeconds);
        if (d.Count < kills) Console.WriteLine($"  ({kills - d.Count} kills not detected before the restart or the end)");
    }

    // ~20 s apart with jitter, so kills fall at every phase of the probe rounds.
    private static TimeSpan NextGap(Random random) => TimeSpan.FromSeconds(15 + random.NextDouble() * 10);

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
