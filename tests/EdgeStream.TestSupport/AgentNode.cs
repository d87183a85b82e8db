using System.Text.Json;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>
/// A running agent with every listener on its own free loopback port and its own data directory,
/// so integration tests can run side by side. Restart keeps the data directory and ports.
/// </summary>
public sealed class AgentNode : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private AgentProcess? _process;

    private AgentNode(string dataDirectory, string role, string[] extraArgs)
    {
        DataDirectory = dataDirectory;
        Role = role;
        _extraArgs = extraArgs;
        var ca = Array.IndexOf(extraArgs, "--tls-ca");
        if (Https && ca >= 0 && ca + 1 < extraArgs.Length) KafkaTls.Register(Bootstrap, extraArgs[ca + 1]);
    }

    public string DataDirectory { get; }
    public string Role { get; }
    public int KafkaPort { get; } = AgentProcess.FreePort();
    public int MqttPort { get; } = AgentProcess.FreePort();
    public int HttpPort { get; } = AgentProcess.FreePort();
    public int UplinkPort { get; } = AgentProcess.FreePort();
    /// <summary>The node's gossip port on 127.0.0.1 (UDP and TCP), unless the test passed its own <c>--gossip</c>.</summary>
    public int GossipPort { get; } = AgentProcess.FreePort();
    public string GossipAddress => $"127.0.0.1:{GossipPort}";
    public string Bootstrap => $"127.0.0.1:{KafkaPort}";
    public AgentProcess Process => _process ?? throw new InvalidOperationException("the agent is not running");
    /// <summary>True for a node started with <c>--tls-cert</c>: its HTTP port speaks HTTPS.</summary>
    public bool Https => _extraArgs.Contains("--tls-cert");

    /// <summary>Starts an agent (edge by default) and waits until /healthz answers.</summary>
    public static async Task<AgentNode> StartAsync(string dataDirectory, string role = "edge", params string[] extraArgs)
    {
        var node = new AgentNode(dataDirectory, role, extraArgs);
        await node.StartProcessAsync();
        return node;
    }

    /// <summary>
    /// A node with its ports and data directory chosen but no process yet (a parent that is "down"
    /// while its children already point at it); <see cref="RestartAsync"/> starts it.
    /// </summary>
    public static AgentNode Prepare(string dataDirectory, string role = "edge", params string[] extraArgs) =>
        new(dataDirectory, role, extraArgs);

    /// <summary>True while the agent process runs.</summary>
    public bool IsRunning => _process is not null;

    private async Task StartProcessAsync()
    {
        var args = new List<string>
        {
            "run", "--role", Role, "--data", DataDirectory,
            "--kafka", Bootstrap, "--mqtt", $"127.0.0.1:{MqttPort}", "--http", $"127.0.0.1:{HttpPort}",
        };
        if (Role != "edge") args.AddRange(["--uplink", $"127.0.0.1:{UplinkPort}"]);
        if (!_extraArgs.Contains("--gossip")) args.AddRange(["--gossip", GossipAddress]);
        if (!_extraArgs.Contains("--mdns")) args.AddRange(["--mdns", "off"]);
        args.AddRange(_extraArgs);
        _process = AgentProcess.Start(Path.GetDirectoryName(DataDirectory)!, args);
        await _process.WaitForHealthyAsync(HttpPort, TimeSpan.FromSeconds(60), Https);
    }

    /// <summary>SIGTERM and wait for a clean exit (asserts exit code 0).</summary>
    public async Task StopAsync()
    {
        var code = await Process.StopAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"agent exited with {code}.\nstderr:\n{Process.Stderr}");
        _process!.Dispose();
        _process = null;
    }

    /// <summary>kill -9: no flush, no cleanup.</summary>
    public async Task KillAsync()
    {
        await Process.KillAsync();
        _process!.Dispose();
        _process = null;
    }

    public async Task RestartAsync(bool kill = false)
    {
        if (_process is not null)
        {
            if (kill) await KillAsync();
            else await StopAsync();
        }
        await StartProcessAsync();
    }

    /// <summary>The body of <c>GET /v1/status</c>.</summary>
    public async Task<JsonElement> StatusAsync()
    {
        using var http = AgentProcess.StatusClient(Https, TimeSpan.FromSeconds(20));
        var json = await http.GetStringAsync($"{(Https ? "https" : "http")}://127.0.0.1:{HttpPort}/v1/status");
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// True when this node's uplink sender has had every record it holds of <paramref name="topics"/>
    /// acknowledged by its parent: the backlog in <c>/v1/status</c> shows, for each of their
    /// partitions, the high watermark the partition has now, and a cursor that has reached it. The
    /// backlog is published about once a second; a stale one shows an older high watermark and does
    /// not count. A parent acknowledges a frame once it is durable there, so from then on the parent
    /// holds all of it and — while nothing new is produced — this node sends nothing more.
    /// </summary>
    public async Task<bool> UplinkDrainedAsync(params string[] topics)
    {
        var status = await StatusAsync();
        if (!status.TryGetProperty("uplinkSender", out var sender)) return false;
        var backlog = new Dictionary<(string, int), (long Cursor, long High)>();
        foreach (var p in sender.GetProperty("partitions").EnumerateArray())
        {
            backlog[(p.GetProperty("topic").GetString()!, p.GetProperty("partition").GetInt32())] =
                (p.GetProperty("cursor").GetInt64(), p.GetProperty("highWatermark").GetInt64());
        }
        foreach (var topic in topics)
        {
            foreach (var (partition, high) in LogReader.HighWatermarks(Bootstrap, topic))
            {
                if (high == 0) continue; // nothing to send
                if (!backlog.TryGetValue((topic, partition), out var b) || b.High != high || b.Cursor < high) return false;
            }
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is null) return;
        try { await _process.StopAsync(TimeSpan.FromSeconds(30)); }
        catch (Exception) { /* a test already failed; make sure it dies */ }
        _process.Dispose();
        _process = null;
    }
}
