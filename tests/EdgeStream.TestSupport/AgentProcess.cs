using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>A real <c>edgestream</c> process: started with <c>dotnet edgestream.dll</c>, output captured, stopped with SIGTERM.</summary>
public sealed partial class AgentProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _outputLock = new();

    private AgentProcess(Process process) => _process = process;

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public string Stdout { get { lock (_outputLock) return _stdout.ToString(); } }
    public string Stderr { get { lock (_outputLock) return _stderr.ToString(); } }

    /// <summary>The runner's variable that selects the MQTT broker of every agent a test starts (<c>--mqtt-engine</c>).</summary>
    public const string MqttEngineVariable = "EDGESTREAM_MQTT_ENGINE";

    /// <summary>The agent built next to the tests (see the test project's AssemblyMetadata).</summary>
    public static string AgentDll
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("EDGESTREAM_AGENT_DLL");
            if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
            var path = typeof(AgentProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .First(a => a.Key == "EdgeStreamAgentDll").Value!;
            if (!File.Exists(path)) throw new FileNotFoundException($"the agent was not built at {path}; build EdgeStream.sln first", path);
            return path;
        }
    }

    /// <summary>
    /// Starts the agent; with <paramref name="netns"/>, inside that network namespace through
    /// <c>ip netns exec NS dotnet …</c> (which execs in place, so <see cref="Pid"/> is the agent's).
    /// </summary>
    public static AgentProcess Start(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null,
        string? netns = null, IReadOnlyList<string>? launcher = null)
    {
        // launcher: a command that ends by exec-ing its arguments ("sh -c '... exec \"$@\"' sh"), so Pid stays the agent's.
        var psi = new ProcessStartInfo(launcher is { Count: > 0 } ? launcher[0] : netns is null ? "dotnet" : "ip")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (launcher is { Count: > 0 })
        {
            foreach (var a in launcher.Skip(1)) psi.ArgumentList.Add(a);
            psi.ArgumentList.Add("dotnet");
        }
        else if (netns is not null)
        {
            foreach (var a in (string[])["netns", "exec", netns, "dotnet"]) psi.ArgumentList.Add(a);
        }
        psi.ArgumentList.Add(AgentDll);
        foreach (var a in WithLoopbackMesh(args, environment)) psi.ArgumentList.Add(a);
        // The child sees only the EDGESTREAM_* variables a test sets, never the runner's.
        // One exception: EDGESTREAM_MQTT_ENGINE, so a whole suite can be run against either MQTT broker.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EDGESTREAM_", StringComparison.Ordinal) && k != MqttEngineVariable).ToList())
            psi.Environment.Remove(key);
        if (environment is not null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var agent = new AgentProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (agent._outputLock) agent._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (agent._outputLock) agent._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return agent;
    }

    /// <summary>Runs the agent to completion (for verbs that exit by themselves).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToExitAsync(
        string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var agent = Start(workingDirectory, args, environment);
        var exited = await agent.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60));
        Assert.True(exited, $"edgestream {string.Join(' ', args)} did not exit in time.\nstdout:\n{agent.Stdout}\nstderr:\n{agent.Stderr}");
        return (agent.ExitCode, agent.Stdout, agent.Stderr);
    }

    /// <summary>
    /// An HTTP client for a node's status port; <paramref name="https"/> for a node with <c>--tls-cert</c>
    /// (any certificate accepted here: tests that check the certificate use curl or kcat with the CA).
    /// </summary>
    public static HttpClient StatusClient(bool https, TimeSpan timeout) => https
        ? new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }) { Timeout = timeout }
        : new HttpClient { Timeout = timeout };

    /// <summary>Polls <c>GET /healthz</c> until it answers 200 "ok" or the deadline passes (fails if the process exits first).</summary>
    public async Task WaitForHealthyAsync(int httpPort, TimeSpan timeout, bool https = false)
    {
        using var http = StatusClient(https, TimeSpan.FromSeconds(2));
        var healthy = await Wait.UntilAsync(async () =>
        {
            if (_process.HasExited)
                Assert.Fail($"edgestream exited with {_process.ExitCode} before becoming healthy.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            try
            {
                using var response = await http.GetAsync($"{(https ? "https" : "http")}://127.0.0.1:{httpPort}/healthz");
                return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync() == "ok";
            }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) { return false; }
        }, timeout, TimeSpan.FromMilliseconds(100));
        Assert.True(healthy, $"edgestream was not healthy on port {httpPort} within {timeout}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    public void SendSigterm() => SendSignal(Sigterm);

    public void SendSignal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, then waits for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan timeout, int signal = Sigterm)
    {
        SendSignal(signal);
        var exited = await WaitForExitAsync(timeout);
        Assert.True(exited, $"edgestream did not exit within {timeout} of SIGTERM.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (kill -9) and wait until the process is gone.</summary>
    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    /// <summary>
    /// <c>run</c> with every listener on its own free loopback port, so tests can run side by side;
    /// only the zero-configuration test uses the default ports.
    /// </summary>
    public static string[] RunArgs(int httpPort, params string[] extra) =>
    [
        "run", "--http", $"127.0.0.1:{httpPort}", "--kafka", $"127.0.0.1:{FreePort()}", "--mqtt", $"127.0.0.1:{FreePort()}", .. extra,
    ];

    /// <summary>
    /// Tests never send multicast or gossip on the host's real interfaces: an <c>edgestream run</c> gets
    /// <c>--mdns off</c> and <c>--gossip 127.0.0.1:(free port)</c> unless the test sets them itself (flag or
    /// environment variable).
    /// </summary>
    public static IReadOnlyList<string> WithLoopbackMesh(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var list = args.ToList();
        if (list.Count == 0 || list[0] != "run") return list;
        if (!list.Contains("--mdns") && environment?.ContainsKey("EDGESTREAM_MDNS") != true) list.AddRange(["--mdns", "off"]);
        if (!list.Contains("--gossip") && environment?.ContainsKey("EDGESTREAM_GOSSIP") != true) list.AddRange(["--gossip", $"127.0.0.1:{FreePort()}"]);
        return list;
    }

    private static readonly HashSet<int> s_handedOut = [];

    // Ports below the kernel's ephemeral range: a port bind(0) hands out comes from that range, where any
    // process's next outgoing connection (another test project's Kafka client, say) may take it as its
    // local port before the agent binds it ("address already in use" at start-up, seen in CI).
    private static readonly (int Low, int High) s_range = ListenRange();

    /// <summary>
    /// A port that was free a moment ago on 127.0.0.1 (TCP and UDP: gossip uses both) and that no other
    /// test in this process has been given, chosen at random below the ephemeral port range.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = s_range.High > s_range.Low ? Random.Shared.Next(s_range.Low, s_range.High) : 0;
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                port = ((IPEndPoint)listener.LocalEndpoint).Port;
                using var udp = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, port));
            }
            catch (System.Net.Sockets.SocketException)
            {
                continue;
            }
            lock (s_handedOut)
            {
                if (s_handedOut.Contains(port) || !ReserveAcrossProcesses(port)) continue;
                s_handedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException("no unused loopback port after 1000 tries");
    }

    private static readonly string s_reservations = Path.Combine(Path.GetTempPath(), "edgestream-test-ports");

    // Test projects run side by side in separate processes, each drawing from the same range: without a
    // shared record two of them could both find a port free and hand it out before either agent binds it
    // ("address already in use" at start-up, seen in CI). A file per port, created exclusively, is that
    // record; one older than a few minutes is stale (its test has long since bound or released the port).
    private static bool ReserveAcrossProcesses(int port)
    {
        try
        {
            Directory.CreateDirectory(s_reservations);
            var file = Path.Combine(s_reservations, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (File.Exists(file) && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > TimeSpan.FromMinutes(5)) File.Delete(file);
            using (new FileStream(file, FileMode.CreateNew, FileAccess.Write)) { }
            return true;
        }
        catch (IOException)
        {
            return false; // another test process holds it
        }
        catch (UnauthorizedAccessException)
        {
            return true; // no shared record possible here: fall back to this process's own
        }
    }

    private static (int Low, int High) ListenRange()
    {
        const int floor = 10_000;
        try
        {
            var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0],
                System.Globalization.CultureInfo.InvariantCulture);
            return ephemeralLow > floor + 1000 ? (floor, ephemeralLow) : (0, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return (0, 0); // not Linux's file: let the kernel choose
        }
    }

    public const int Sigint = 2;
    public const int Sigterm = 15;
    /// <summary>Freezes a process (a hung host: the kernel still accepts its TCP connections, nothing answers).</summary>
    public const int Sigstop = 19;
    public const int Sigcont = 18;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

/// <summary>A temporary directory deleted at dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edgestream-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
