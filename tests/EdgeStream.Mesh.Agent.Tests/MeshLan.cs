using System.Globalization;
using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Mesh.Agent.Tests;

/// <summary>
/// Agents on one <see cref="NetnsLan"/>: node N runs in the LAN's namespace N with address
/// <c>10.201.S.(N+1)</c>. Inside its namespace every agent has the same ports (Kafka 9092, MQTT 1883,
/// HTTP 8080 on its own loopback; uplink 9095 and gossip 7946 on its LAN address), so nothing listens in
/// the host's namespace and no multicast or gossip leaves the LAN. The test reaches Kafka and HTTP
/// through <see cref="Netns"/>.
/// </summary>
internal sealed class MeshLan : IAsyncDisposable
{
    public const int GossipPort = 7946;
    public const int UplinkPort = 9095;
    public const string Kafka = "127.0.0.1:9092";
    private const string Http = "127.0.0.1:8080";

    private readonly NetnsLan _lan;
    private readonly TempDirectory _data = new();
    private readonly Dictionary<int, MeshAgent> _agents = [];

    public MeshLan(int nodes)
    {
        _lan = NetnsLan.Create(nodes, "esmesh");
        Cluster = "e2e" + Guid.NewGuid().ToString("N")[..8];
    }

    public string Cluster { get; }

    public string Address(int node) => _lan.Address(node);

    public string Namespace(int node) => _lan.Nodes[node - 1];

    public MeshAgent this[int node] => _agents[node];

    public IEnumerable<MeshAgent> Agents => _agents.Values;

    /// <summary>
    /// Starts <paramref name="nodeId"/> as <paramref name="role"/> on node <paramref name="node"/> with the
    /// mesh flags for its place (a cloud: no mDNS; a gateway: the cloud as seed) and waits for /healthz.
    /// </summary>
    public async Task<MeshAgent> StartAsync(int node, string role, string nodeId, params string[] extra)
    {
        var ip = Address(node);
        var dir = _data.Combine(nodeId);
        Directory.CreateDirectory(dir);
        var args = new List<string>
        {
            "run", "--role", role, "--node-id", nodeId, "--data", dir,
            "--kafka", Kafka, "--mqtt", "127.0.0.1:1883", "--http", Http,
            "--cluster", Cluster, "--gossip", $"{ip}:{GossipPort}",
            // mDNS only ever runs here, inside the LAN's namespaces.
            "--mdns", role == "cloud" ? "off" : "on",
        };
        if (role != "edge") args.AddRange(["--uplink", $"{ip}:{UplinkPort}"]);
        args.AddRange(extra);
        var agent = new MeshAgent(nodeId, role, ip, Namespace(node), dir, AgentProcess.Start(dir, args, netns: Namespace(node)));
        _agents[node] = agent;
        await agent.WaitForHealthyAsync(TimeSpan.FromSeconds(60));
        return agent;
    }

    /// <summary>Every agent's output, for a failing assertion's message.</summary>
    public string Describe(int tail = 40) => string.Join('\n', _agents.Values.Select(a => a.Describe(tail)));

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        _lan.Dispose();
        _data.Dispose();
    }
}

/// <summary>One agent process in a namespace of a <see cref="MeshLan"/>.</summary>
internal sealed class MeshAgent(string nodeId, string role, string address, string ns, string dataDirectory, AgentProcess process) : IAsyncDisposable
{
    private readonly HttpClient _http = Netns.HttpClient(ns);

    public string NodeId { get; } = nodeId;
    public string Role { get; } = role;
    public string Address { get; } = address;
    public string Namespace { get; } = ns;
    public string UplinkAddress => $"{Address}:{MeshLan.UplinkPort}";
    public AgentProcess Process { get; } = process;

    public async Task WaitForHealthyAsync(TimeSpan timeout)
    {
        var healthy = await Wait.UntilAsync(async () =>
        {
            if (Process.HasExited) return true;
            try { return await _http.GetStringAsync("http://127.0.0.1:8080/healthz") == "ok"; }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) { return false; }
        }, timeout, TimeSpan.FromMilliseconds(100));
        Assert.False(Process.HasExited, $"{NodeId} exited with {(Process.HasExited ? Process.ExitCode : 0)} before becoming healthy.\n{Describe(200)}");
        Assert.True(healthy, $"{NodeId} was not healthy within {timeout}.\n{Describe(200)}");
    }

    /// <summary>The body of <c>GET /v1/status</c>, or null while it does not answer.</summary>
    public async Task<JsonElement?> TryStatusAsync()
    {
        try
        {
            using var document = JsonDocument.Parse(await _http.GetStringAsync("http://127.0.0.1:8080/v1/status"));
            return document.RootElement.Clone();
        }
        catch (HttpRequestException) { return null; }
        catch (TaskCanceledException) { return null; }
    }

    /// <summary><c>mesh.parent.nodeId</c> (null when none or unknown).</summary>
    public async Task<string?> ParentAsync()
    {
        var status = await TryStatusAsync();
        if (status is not { } s || !s.TryGetProperty("mesh", out var mesh) || !mesh.TryGetProperty("parent", out var parent)) return null;
        if (parent.ValueKind != JsonValueKind.Object || !parent.TryGetProperty("nodeId", out var id) || id.ValueKind != JsonValueKind.String) return null;
        return id.GetString();
    }

    /// <summary><c>mesh.members</c> as node id → state (empty when unknown).</summary>
    public async Task<Dictionary<string, string>> MembersAsync()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var status = await TryStatusAsync();
        if (status is not { } s || !s.TryGetProperty("mesh", out var mesh) || !mesh.TryGetProperty("members", out var members)) return result;
        foreach (var m in members.EnumerateArray())
            result[m.GetProperty("nodeId").GetString()!] = m.GetProperty("state").GetString()!;
        return result;
    }

    /// <summary>True when the uplink sender reports a live connection.</summary>
    public async Task<bool> UplinkConnectedAsync()
    {
        var status = await TryStatusAsync();
        return status is { } s && s.TryGetProperty("uplinkSender", out var sender)
            && sender.TryGetProperty("connected", out var c) && c.ValueKind == JsonValueKind.True;
    }

    /// <summary>The lines of the agent's log file (<c>{data}/logs</c>, full timestamps) containing <paramref name="text"/>, with their time.</summary>
    public List<(DateTimeOffset At, string Line)> LogLines(string text)
    {
        var result = new List<(DateTimeOffset, string)>();
        var logs = Path.Combine(dataDirectory, "logs");
        if (!Directory.Exists(logs)) return result;
        foreach (var file in Directory.GetFiles(logs, "edgestream-*.log").Order(StringComparer.Ordinal))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (!line.Contains(text, StringComparison.Ordinal)) continue;
                var stamp = line.Split(' ', 2)[0];
                if (DateTimeOffset.TryParseExact(stamp, "yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
                    result.Add((at, line));
            }
        }
        return result;
    }

    public string Describe(int tail)
    {
        var lines = (Process.Stdout + Process.Stderr).Split('\n');
        return $"--- {NodeId} ({Role}, {Address}){(Process.HasExited ? $" exited {Process.ExitCode}" : "")}:\n" + string.Join('\n', lines.TakeLast(tail));
    }

    public async Task KillAsync() => await Process.KillAsync();

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            try { await Process.StopAsync(TimeSpan.FromSeconds(20)); }
            catch (Exception) { /* a test already failed; Dispose kills it */ }
        }
        Process.Dispose();
        _http.Dispose();
    }
}
