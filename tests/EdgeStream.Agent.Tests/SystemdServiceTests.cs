using System.Net.Sockets;
using System.Text;
using EdgeStream.Hosting.Systemd;

namespace EdgeStream.Agent.Tests;

/// <summary>
/// The shipped systemd unit, run the way systemd runs it: its ExecStart command line, with NOTIFY_SOCKET pointing at
/// a datagram socket the test reads (no systemd on these machines), WATCHDOG_USEC and JOURNAL_STREAM set.
/// </summary>
public sealed class SystemdServiceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task UnitCommandLine_UnderNotifySocket_SendsReadyAfterBindThenWatchdogThenStopping()
    {
        using var dir = new TempDirectory();
        var unit = PackagingFiles.Unit();
        var execStart = unit["ExecStart"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("edgestream", Path.GetFileName(execStart[0]));
        // The unit's own arguments, with the shipped config copied where the test can point --config at it.
        var args = execStart.Skip(1).ToArray();
        var configIndex = Array.IndexOf(args, "--config") + 1;
        Assert.True(configIndex > 0, "ExecStart has no --config");
        File.Copy(PackagingFiles.Path("config.json"), dir.Combine("config.json"));
        args[configIndex] = dir.Combine("config.json");

        var socketPath = dir.Combine("notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        var http = AgentProcess.FreePort();
        var kafka = AgentProcess.FreePort();
        // What systemd sets for a Type=notify unit with WatchdogSec (1 s here so the test sees keep-alives quickly);
        // the environment overrides the config's fixed ports and /var/lib data directory.
        var environment = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = socketPath,
            ["WATCHDOG_USEC"] = "1000000",
            ["EDGESTREAM_DATA"] = dir.Combine("data"),
            ["EDGESTREAM_HTTP"] = $"127.0.0.1:{http}",
            ["EDGESTREAM_KAFKA"] = $"127.0.0.1:{kafka}",
            ["EDGESTREAM_MQTT"] = $"127.0.0.1:{AgentProcess.FreePort()}",
        };

        // systemd points JOURNAL_STREAM at the stderr it gives the service; here that stderr is the test's pipe.
        using var agent = AgentProcess.Start(dir.Path, args, environment, launcher: JournalLauncher);
        var ready = await ReceiveAsync(notify, agent);
        Assert.StartsWith("READY=1\n", ready);
        Assert.Contains($"MAINPID={agent.Pid}", ready);
        // READY=1 means the listeners are bound: a Kafka client can connect right away.
        using (var client = new TcpClient())
            await client.ConnectAsync("127.0.0.1", kafka);
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(notify, agent));

        agent.SendSigterm();
        var afterTerm = await ReceiveAsync(notify, agent);
        while (afterTerm == "WATCHDOG=1") afterTerm = await ReceiveAsync(notify, agent);
        Assert.Equal("STOPPING=1", afterTerm);
        Assert.True(await agent.WaitForExitAsync(Timeout), "the agent did not exit after SIGTERM");
        Assert.Equal(0, agent.ExitCode);

        // Under the journal: priority-prefixed lines on stderr, no timestamps, no log files of its own.
        Assert.Contains("<6>Node ", agent.Stderr);
        foreach (var line in agent.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.Matches(@"^<[0-7]>", line);
        Assert.DoesNotMatch(@"\d\d:\d\d:\d\d\.\d{3}", agent.Stderr);
        Assert.Empty(Directory.GetFiles(dir.Combine("data", "logs")));
    }

    /// <summary>Sets JOURNAL_STREAM to the device and inode of the stderr the agent gets, then execs it (same PID).</summary>
    private static readonly string[] JournalLauncher =
        ["sh", "-c", "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec \"$@\"", "sh"];

    [Fact]
    public async Task JournalStreamOfAnotherStream_IsIgnored()
    {
        using var dir = new TempDirectory();
        var http = AgentProcess.FreePort();
        // A child of a service inherits JOURNAL_STREAM with its stderr elsewhere: it must log as usual.
        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("data")),
            new Dictionary<string, string> { ["JOURNAL_STREAM"] = "8:1" });
        await agent.WaitForHealthyAsync(http, Timeout);
        Assert.Equal(0, await agent.StopAsync(Timeout));

        Assert.Matches(@"\d\d:\d\d:\d\d\.\d{3} INF ", agent.Stdout);
        Assert.DoesNotContain("<6>", agent.Stderr);
    }

    [Theory]
    [InlineData("8:4711", "socket:[4711]", true)]
    [InlineData("8:4711", "pipe:[4711]", true)]
    [InlineData("8:4711", "socket:[47110]", false)]
    [InlineData("8:4711", "/var/log/edgestream.err", false)]
    [InlineData(null, "socket:[4711]", false)]
    [InlineData("garbage", "socket:[4711]", false)]
    public void StderrIsJournal(string? journalStream, string linkTarget, bool expected) =>
        Assert.Equal(expected, EdgeStream.Hosting.Logging.AgentLogging.StderrIsJournal(journalStream, linkTarget));

    [Fact]
    public async Task NoNotifySocket_SendsNothingAndLogsToFiles()
    {
        using var dir = new TempDirectory();
        var http = AgentProcess.FreePort();
        using var agent = AgentProcess.Start(dir.Path, AgentProcess.RunArgs(http, "--data", dir.Combine("data")));
        await agent.WaitForHealthyAsync(http, Timeout);
        Assert.Equal(0, await agent.StopAsync(Timeout));

        Assert.DoesNotContain("READY=1", agent.Stdout);
        Assert.Matches(@"\d\d:\d\d:\d\d\.\d{3} INF ", agent.Stdout);
        Assert.NotEmpty(Directory.GetFiles(dir.Combine("data", "logs")));
    }

    [Fact]
    public void Unit_IsNotifyTypeWithWatchdogHardeningAndLimits()
    {
        var unit = PackagingFiles.Unit();

        Assert.Equal("notify", unit["Type"]);
        Assert.Matches(@"^\d+s$", unit["WatchdogSec"]);
        Assert.Equal("on-failure", unit["Restart"]);
        Assert.Equal("strict", unit["ProtectSystem"]);
        Assert.Equal("true", unit["NoNewPrivileges"]);
        // Writable: the data directory the shipped config names, and nothing else.
        Assert.Equal("/var/lib/edgestream", unit["ReadWritePaths"]);
        Assert.Contains("\"data\": \"/var/lib/edgestream\"", File.ReadAllText(PackagingFiles.Path("config.json")));
        Assert.Matches(@"^\d+[KMG]$", unit["MemoryMax"]);
        Assert.True(int.Parse(unit["LimitNOFILE"], System.Globalization.CultureInfo.InvariantCulture) >= 4096);
        Assert.Equal("edgestream", unit["User"]);
    }

    [Theory]
    [InlineData("/run/notify", null, null, "/run/notify", null)]
    [InlineData("@abstract", "2000000", null, "@abstract", 2.0)]
    [InlineData("/run/notify", "2000000", "42", "/run/notify", 2.0)]
    [InlineData("/run/notify", "2000000", "41", "/run/notify", null)]
    [InlineData(null, "2000000", null, null, null)]
    [InlineData("", "junk", null, null, null)]
    public void Environment_Parse(string? socket, string? usec, string? pid, string? expectedSocket, double? expectedSeconds)
    {
        var parsed = SystemdEnvironment.Parse(socket, usec, pid, processId: 42);

        Assert.Equal(expectedSocket, parsed.NotifySocket);
        Assert.Equal(expectedSeconds, parsed.WatchdogInterval?.TotalSeconds);
    }

    [Fact]
    public void Notifier_AbstractSocket_Delivers()
    {
        var name = "edgestream-test-" + Guid.NewGuid().ToString("N");
        using var receiver = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        receiver.Bind(new UnixDomainSocketEndPoint("\0" + name));
        using var notifier = new SystemdNotifier("@" + name);

        Assert.True(notifier.Send("READY=1"));

        var buffer = new byte[64];
        receiver.ReceiveTimeout = 10_000;
        Assert.Equal("READY=1", Encoding.UTF8.GetString(buffer, 0, receiver.Receive(buffer)));
    }

    private static async Task<string> ReceiveAsync(Socket socket, AgentProcess agent)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no notification within {Timeout}.\nstdout:\n{agent.Stdout}\nstderr:\n{agent.Stderr}");
            throw;
        }
    }
}

/// <summary>The files under packaging/linux that release archives ship.</summary>
internal static class PackagingFiles
{
    public static string Path(string name) => RepositoryFiles.Path("packaging", "linux", name);

    /// <summary>The unit's Key=Value lines (comments and section headers skipped; a repeated key keeps the last).</summary>
    public static Dictionary<string, string> Unit()
    {
        var unit = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadAllLines(Path("edgestream.service")))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';' or '[') continue;
            var eq = line.IndexOf('=');
            if (eq > 0) unit[line[..eq]] = line[(eq + 1)..];
        }
        return unit;
    }
}
