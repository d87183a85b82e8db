using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// mesh-agents: the membership of real agent processes on loopback (<c>--mdns off</c>, each
/// <c>--gossip 127.0.0.1:PORT</c>, <c>--seeds</c> the first one). Edges joined by seeds make one site
/// membership of <c>--members</c> nodes. Once every node lists all of them alive, one node at a time is
/// killed with SIGKILL (never the seed) and restarted after it was seen dead everywhere. Detection is
/// the time from the kill until an observer's <c>/v1/status</c> (polled every 100 ms) shows it dead,
/// over observers × kills; a false positive is a running node shown dead, a false suspicion one shown
/// suspect. Then parent failover: an edge with <c>--seeds</c> = two gateways and no <c>--parent</c>, its
/// parent killed; the time until its <c>/v1/status</c> names the other one.
/// </summary>
public static class MeshAgentsScenario
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var agent = Servers.AgentDll(args);
        var members = args.Int("members", 10);
        var kills = args.Int("kills", 5);
        var rounds = args.Int("failovers", 3);
        if (members < 3) throw new ArgumentException("--members: at least 3");
        var root = Path.Combine(Path.GetTempPath(), "edgestream-bench-mesh-agents-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        Console.WriteLine($"mesh-agents: {members} agents on loopback (--mdns off, --seeds the first), {kills} kill -9 (restart after), status polled every {s_poll.TotalMilliseconds} ms; then {rounds} parent failovers (edge with --seeds two gateways)");
        try
        {
            var detection = await DetectionAsync(agent, root, members, kills).ConfigureAwait(false);
            var failover = await FailoverAsync(agent, root, rounds).ConfigureAwait(false);
            Report.Header("measure", "samples", "p50 s", "p99 s", "max s", "goal", "false positives", "false suspicions", "gossip B/s/member");
            Report.Row($"detection, {members} agents, kill -9 (observers × kills)", detection.Samples.Count, Percentile(detection.Samples, 0.5),
                Percentile(detection.Samples, 0.99), Max(detection.Samples), "p99 ≤ 3 s", detection.FalsePositives, detection.FalseSuspicions,
                detection.GossipBytesPerSecond is { } g ? g : "n/a");
            Report.Row("parent failover, edge with 2 gateways, kill -9 the parent", failover.Count, Percentile(failover, 0.5), Percentile(failover, 0.99),
                Max(failover), "≤ 5 s", "", "", "");
            Report.Row("memberlist LAN defaults, 10 members (anchor, not run)", "", "", "~5.5", "", "", "", "", "");
            if (detection.Undetected > 0) Console.WriteLine($"  ({detection.Undetected} observer × kill pairs never showed the victim dead within 30 s)");
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private sealed record Node(string Id, string Role, string DataDir, Servers.AgentPorts Ports, int Gossip, int Uplink, string[] Extra)
    {
        public ChildProcess? Process { get; set; }
        public string GossipAddress => $"127.0.0.1:{Gossip.ToString(CultureInfo.InvariantCulture)}";
    }

    private sealed record Detection(List<double> Samples, int FalsePositives, int FalseSuspicions, int Undetected, double? GossipBytesPerSecond);

    private static Node NewNode(string root, string id, string role, string cluster, IEnumerable<string> extra)
    {
        var gossip = ChildProcess.FreePort();
        var uplink = ChildProcess.FreePort();
        List<string> args = ["--node-id", id, "--mdns", "off", "--cluster", cluster, "--gossip", $"127.0.0.1:{gossip.ToString(CultureInfo.InvariantCulture)}", .. extra];
        if (role != "edge") args.AddRange(["--uplink", $"127.0.0.1:{uplink.ToString(CultureInfo.InvariantCulture)}"]);
        return new Node(id, role, Path.Combine(root, id), new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort()),
            gossip, uplink, [.. args]);
    }

    private static async Task StartAsync(string agent, Node node) =>
        node.Process = await Servers.StartAgentAsync(agent, node.DataDir, node.Ports, node.Role, node.Extra).ConfigureAwait(false);

    private static async Task<Detection> DetectionAsync(string agent, string root, int count, int kills)
    {
        var cluster = "bench" + Guid.NewGuid().ToString("N")[..6];
        var nodes = new List<Node>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            nodes.Add(NewNode(root, "m00", "edge", cluster, []));
            for (var i = 1; i < count; i++) nodes.Add(NewNode(root, $"m{i:D2}", "edge", cluster, ["--seeds", nodes[0].GossipAddress]));
            foreach (var n in nodes) await StartAsync(agent, n).ConfigureAwait(false);
            var converge = Stopwatch.StartNew();
            if (!await AllSeeAliveAsync(http, nodes, TimeSpan.FromSeconds(60)).ConfigureAwait(false))
                throw new InvalidOperationException($"{count} agents did not all list {count} alive members within 60 s");
            Console.WriteLine($"  {count} agents list {count} alive members {converge.Elapsed.TotalSeconds:F1} s after the last start");

            // Gossip volume over 10 s of steady state before the first kill, when the status shows byte counters.
            double? gossipRate = null;
            if (await GossipBytesAsync(http, nodes).ConfigureAwait(false) is { } before)
            {
                var quiet = Stopwatch.StartNew();
                await PollForAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (await GossipBytesAsync(http, nodes).ConfigureAwait(false) is { } after) gossipRate = (after - before) / count / quiet.Elapsed.TotalSeconds;
            }
            var samples = new List<double>();
            int falsePositives = 0, falseSuspicions = 0, undetected = 0;
            for (var k = 0; k < kills; k++)
            {
                var victim = nodes[1 + k % (count - 1)];
                var observers = nodes.Where(n => n != victim).ToList();
                var killed = Stopwatch.StartNew();
                await victim.Process!.KillAsync().ConfigureAwait(false);
                await victim.Process.DisposeAsync().ConfigureAwait(false);
                victim.Process = null;
                var seenDead = new Dictionary<string, double>();
                var wronglyDead = new HashSet<(string, string)>();
                var wronglySuspect = new HashSet<(string, string)>();
                while (seenDead.Count < observers.Count && killed.Elapsed < TimeSpan.FromSeconds(30))
                {
                    var views = await Task.WhenAll(observers.Select(o => MembersAsync(http, o))).ConfigureAwait(false);
                    var at = killed.Elapsed.TotalSeconds;
                    for (var i = 0; i < observers.Count; i++)
                    {
                        foreach (var (id, state) in views[i])
                        {
                            if (id == victim.Id)
                            {
                                if (state is "dead" or "left") seenDead.TryAdd(observers[i].Id, at);
                            }
                            else if (state == "dead") wronglyDead.Add((observers[i].Id, id));
                            else if (state == "suspect") wronglySuspect.Add((observers[i].Id, id));
                        }
                    }
                    await Task.Delay(s_poll).ConfigureAwait(false);
                }
                samples.AddRange(seenDead.Values);
                undetected += observers.Count - seenDead.Count;
                falsePositives += wronglyDead.Count;
                falseSuspicions += wronglySuspect.Count;
                Console.WriteLine($"  kill {k + 1}: {victim.Id} seen dead by {seenDead.Count}/{observers.Count}, first {(seenDead.Count > 0 ? seenDead.Values.Min() : double.NaN):F2} s, last {(seenDead.Count > 0 ? seenDead.Values.Max() : double.NaN):F2} s");

                await StartAsync(agent, victim).ConfigureAwait(false);
                if (!await AllSeeAliveAsync(http, nodes, TimeSpan.FromSeconds(60)).ConfigureAwait(false))
                    Console.WriteLine($"  {victim.Id} restarted but not every node lists it alive within 60 s");
            }
            samples.Sort();
            return new Detection(samples, falsePositives, falseSuspicions, undetected, gossipRate);
        }
        finally
        {
            foreach (var n in nodes) if (n.Process is not null) await n.Process.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<List<double>> FailoverAsync(string agent, string root, int rounds)
    {
        var cluster = "bench" + Guid.NewGuid().ToString("N")[..6];
        var gateways = new[] { NewNode(root, "gw-a", "gateway", cluster, []), NewNode(root, "gw-b", "gateway", cluster, []) };
        var edge = NewNode(root, "edge-f", "edge", cluster, ["--seeds", gateways[0].GossipAddress, "--seeds", gateways[1].GossipAddress]);
        var all = new[] { gateways[0], gateways[1], edge };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var samples = new List<double>();
        try
        {
            foreach (var n in all) await StartAsync(agent, n).ConfigureAwait(false);
            for (var r = 0; r < rounds; r++)
            {
                var (ok, parent) = await UntilAsync(() => ParentAsync(http, edge), p => p is "gw-a" or "gw-b", TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                var other = parent == "gw-a" ? "gw-b" : "gw-a";
                if (!ok || !await UntilAsync(async () => (await MembersAsync(http, edge).ConfigureAwait(false)).GetValueOrDefault(other) == "alive", TimeSpan.FromSeconds(60)).ConfigureAwait(false))
                {
                    Console.WriteLine($"  failover {r + 1}: the edge has no gateway parent ({parent ?? "none"}) or does not list {other} alive within 60 s; stopped");
                    break;
                }
                var victim = gateways.Single(g => g.Id == parent);
                var killed = Stopwatch.StartNew();
                await victim.Process!.KillAsync().ConfigureAwait(false);
                await victim.Process.DisposeAsync().ConfigureAwait(false);
                victim.Process = null;
                var (moved, now) = await UntilAsync(() => ParentAsync(http, edge), p => p == other, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                var seconds = killed.Elapsed.TotalSeconds;
                Console.WriteLine(moved ? $"  failover {r + 1}: {parent} killed, edge on {other} after {seconds:F2} s" : $"  failover {r + 1}: {parent} killed, edge still on {now ?? "none"} after 30 s");
                if (moved) samples.Add(seconds);
                await StartAsync(agent, victim).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var n in all) if (n.Process is not null) await n.Process.DisposeAsync().ConfigureAwait(false);
        }
        samples.Sort();
        return samples;
    }

    private static async Task<bool> AllSeeAliveAsync(HttpClient http, List<Node> nodes, TimeSpan timeout)
    {
        var ids = nodes.Select(n => n.Id).ToList();
        return await UntilAsync(async () =>
        {
            foreach (var n in nodes)
            {
                var view = await MembersAsync(http, n).ConfigureAwait(false);
                // A node may or may not list itself.
                if (ids.Any(id => id != n.Id && view.GetValueOrDefault(id) != "alive")) return false;
            }
            return true;
        }, timeout).ConfigureAwait(false);
    }

    private static async Task<JsonElement?> StatusAsync(HttpClient http, Node node)
    {
        try
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.Ports.Http.ToString(CultureInfo.InvariantCulture)}/v1/status").ConfigureAwait(false));
            return document.RootElement.Clone();
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
        catch (JsonException) { return null; }
    }

    private static async Task<Dictionary<string, string>> MembersAsync(HttpClient http, Node node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (await StatusAsync(http, node).ConfigureAwait(false) is not { } s || !s.TryGetProperty("mesh", out var mesh) || !mesh.TryGetProperty("members", out var members)) return result;
        foreach (var m in members.EnumerateArray())
        {
            if (m.TryGetProperty("nodeId", out var id) && m.TryGetProperty("state", out var state)) result[id.GetString()!] = state.GetString()!;
        }
        return result;
    }

    private static async Task<string?> ParentAsync(HttpClient http, Node node)
    {
        if (await StatusAsync(http, node).ConfigureAwait(false) is not { } s || !s.TryGetProperty("mesh", out var mesh) || !mesh.TryGetProperty("parent", out var parent)) return null;
        return parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty("nodeId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
    }

    /// <summary>
    /// Gossip bytes sent by all nodes: UDP payload and push-pull payload of every scope, from
    /// <c>mesh.traffic</c> in <c>/v1/status</c>; null when a node does not show it.
    /// </summary>
    private static async Task<double?> GossipBytesAsync(HttpClient http, List<Node> nodes)
    {
        double total = 0;
        foreach (var n in nodes)
        {
            if (await StatusAsync(http, n).ConfigureAwait(false) is not { } s || !s.TryGetProperty("mesh", out var mesh)
                || !mesh.TryGetProperty("traffic", out var traffic) || traffic.ValueKind != JsonValueKind.Array) return null;
            foreach (var scope in traffic.EnumerateArray())
                total += scope.GetProperty("bytesSent").GetDouble() + scope.GetProperty("exchangeBytesSent").GetDouble();
        }
        return total;
    }

    private static Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout) =>
        UntilAsync(condition, static held => held, timeout).ContinueWith(t => t.Result.Done, TaskScheduler.Default);

    private static async Task<(bool Done, T Last)> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var expired = sw.Elapsed >= timeout;
            var value = await probe().ConfigureAwait(false);
            if (done(value)) return (true, value);
            if (expired) return (false, value);
            await Task.Delay(s_poll).ConfigureAwait(false);
        }
    }

    /// <summary>Lets <paramref name="span"/> of steady state pass (for a rate measured over it).</summary>
    private static async Task PollForAsync(TimeSpan span)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < span) await Task.Delay(s_poll).ConfigureAwait(false);
    }

    private static object Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? "n/a" : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static object Max(List<double> sorted) => sorted.Count == 0 ? "n/a" : sorted[^1];
}
