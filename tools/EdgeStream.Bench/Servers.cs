namespace EdgeStream.Bench;

/// <summary>Starts the servers a scenario measures, each on free loopback ports with its own data directory.</summary>
public static class Servers
{
    /// <summary>
    /// The agent: <c>--agent PATH</c> (its dll, or a NativeAOT executable from <c>dotnet publish</c>),
    /// else the Release build of the repository the bench runs from.
    /// </summary>
    public static string AgentDll(BenchArgs args)
    {
        var given = args.String("agent", "");
        if (given.Length > 0)
        {
            if (!File.Exists(given)) throw new ArgumentException($"--agent {given}: no such file");
            return Path.GetFullPath(given);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "EdgeStream.sln"))) continue;
            var dll = Path.Combine(dir.FullName, "agent", "bin", "Release", "net10.0", "edgestream.dll");
            if (File.Exists(dll)) return dll;
            throw new ArgumentException($"the agent is not built at {dll}: run 'dotnet build -c Release EdgeStream.sln' or pass --agent PATH");
        }
        throw new ArgumentException("EdgeStream.sln not found above the bench; pass --agent PATH_TO_edgestream.dll");
    }

    /// <summary><c>dotnet edgestream.dll run</c>, ready once <c>/healthz</c> answers "ok".</summary>
    public static async Task<(ChildProcess Process, string Bootstrap)> StartAgentAsync(string agentDll, string dataDir, int partitions, string fsync)
    {
        var (process, ports) = await StartAgentWithPortsAsync(agentDll, dataDir, partitions, fsync).ConfigureAwait(false);
        return (process, $"127.0.0.1:{ports.Kafka}");
    }

    /// <summary>The agent's loopback ports, for scenarios that speak more than Kafka.</summary>
    public readonly record struct AgentPorts(int Kafka, int Mqtt, int Http);

    /// <summary>As <see cref="StartAgentAsync"/>, returning every listener's port; <paramref name="extra"/> settings are appended.</summary>
    public static async Task<(ChildProcess Process, AgentPorts Ports)> StartAgentWithPortsAsync(string agentDll, string dataDir, int partitions, string fsync,
        IEnumerable<string>? extra = null)
    {
        var ports = new AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var process = await StartAgentAsync(agentDll, dataDir, ports, "edge",
            ["--partitions", partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), "--fsync", fsync, .. extra ?? []]).ConfigureAwait(false);
        return (process, ports);
    }

    /// <summary>
    /// <c>edgestream run --role ROLE</c> on <paramref name="ports"/> plus <paramref name="extra"/>
    /// settings, ready once <c>/healthz</c> answers "ok". <paramref name="agent"/> is the dll (run
    /// with <c>dotnet</c>) or a NativeAOT-published executable (run as is).
    /// </summary>
    public static async Task<ChildProcess> StartAgentAsync(string agent, string dataDir, AgentPorts ports, string role, IEnumerable<string> extra, bool https = false)
    {
        Directory.CreateDirectory(dataDir);
        List<string> args =
        [
            "run", "--role", role, "--data", dataDir,
            "--kafka", $"127.0.0.1:{ports.Kafka}", "--http", $"127.0.0.1:{ports.Http}", "--mqtt", $"127.0.0.1:{ports.Mqtt}", .. extra,
        ];
        // Never multicast or gossip on the host's real interfaces unless the scenario asks for it.
        if (!args.Contains("--mdns")) args.AddRange(["--mdns", "off"]);
        if (!args.Contains("--gossip")) args.AddRange(["--gossip", $"127.0.0.1:{ChildProcess.FreePort()}"]);
        var native = !agent.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var process = native
            ? ChildProcess.Start(role, agent, args, dataDir)
            : ChildProcess.Start(role, "dotnet", [agent, .. args], dataDir);
        // With --tls-cert the status port speaks HTTPS; its certificate is the scenario's business, not the health check's.
        using var client = https
            ? new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }) { Timeout = TimeSpan.FromSeconds(2) }
            : new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            await process.WaitUntilAsync(async () =>
            {
                try { return await client.GetStringAsync($"{(https ? "https" : "http")}://127.0.0.1:{ports.Http}/healthz").ConfigureAwait(false) == "ok"; }
                catch (HttpRequestException) { return false; }
                catch (TaskCanceledException) { return false; }
            }, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return process;
    }

    /// <summary><c>nats-server -js -sd DIR</c> (<c>--nats-server PATH</c>, default from PATH), ready once its port accepts.</summary>
    public static async Task<(ChildProcess Process, string Url)> StartNatsAsync(BenchArgs args, string storeDir)
    {
        var binary = args.String("nats-server", "nats-server");
        var port = ChildProcess.FreePort();
        Directory.CreateDirectory(storeDir);
        var process = ChildProcess.Start("nats-server", binary,
            ["-js", "-sd", storeDir, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], storeDir);
        try
        {
            await process.WaitUntilAsync(() => ChildProcess.AcceptsAsync(port), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return (process, $"nats://127.0.0.1:{port}");
    }

    /// <summary>
    /// mosquitto with a generated config: one listener on a free loopback port, anonymous clients,
    /// and, with <paramref name="persistence"/>, what Debian's packaged config turns on:
    /// <c>persistence true</c> in <paramref name="dataDir"/>. mosquitto keeps messages in memory and
    /// writes its whole database at autosave (every 1800 s by default) and at shutdown; it never
    /// fsyncs per message. Ready once its port accepts.
    /// </summary>
    public static async Task<(ChildProcess Process, int Port)> StartMosquittoAsync(string binary, string dataDir, bool persistence)
    {
        var port = ChildProcess.FreePort();
        Directory.CreateDirectory(dataDir);
        var config = Path.Combine(dataDir, "mosquitto.conf");
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            string.Create(invariant, $"listener {port} 127.0.0.1"),
            "allow_anonymous true",
            persistence ? "persistence true" : "persistence false",
        };
        if (persistence) lines.Add("persistence_location " + dataDir.TrimEnd('/') + "/");
        await File.WriteAllLinesAsync(config, lines).ConfigureAwait(false);
        var process = ChildProcess.Start("mosquitto", binary, ["-c", config], dataDir);
        try
        {
            await process.WaitUntilAsync(() => ChildProcess.AcceptsAsync(port), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return (process, port);
    }
}
