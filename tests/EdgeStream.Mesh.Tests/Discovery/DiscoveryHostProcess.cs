using System.Diagnostics;
using System.Text.Json;
using System.Text;
using EdgeStream.TestSupport;
using Xunit;

namespace EdgeStream.Mesh.Tests.Discovery;

/// <summary>
/// A process started in a namespace with <c>ip netns exec</c> (which execs in place: the process id is the
/// program's), its stdout read as JSON lines and its stderr kept for failure messages.
/// </summary>
internal sealed class NamespacedProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<JsonElement> _events = [];
    private readonly StringBuilder _stderr = new();
    private readonly Task _stdoutDone;

    public string Name { get; }

    private NamespacedProcess(string name, string ns, string program, IEnumerable<string> args)
    {
        Name = name;
        _process = ExternalTool.Start("ip", ["netns", "exec", ns, program, .. args]);
        _stdoutDone = Task.Run(async () =>
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith('{')) continue;
                var element = JsonDocument.Parse(line).RootElement.Clone();
                lock (_events) _events.Add(element);
            }
        });
        _ = Task.Run(async () =>
        {
            while (await _process.StandardError.ReadLineAsync() is { } line)
                lock (_stderr) _stderr.AppendLine(line);
        });
    }

    /// <summary>Our discovery host (tests/EdgeStream.Mesh.DiscoveryHost) in <paramref name="ns"/>.</summary>
    public static NamespacedProcess DiscoveryHost(string name, string ns, params string[] args) =>
        new(name, ns, "dotnet", [Path.Combine(AppContext.BaseDirectory, "EdgeStream.Mesh.DiscoveryHost.dll"), .. args]);

    /// <summary>The python-zeroconf peer script in <paramref name="ns"/>, run by the system interpreter (where Debian's package is).</summary>
    public static NamespacedProcess Zeroconf(string name, string ns, params string[] args) =>
        new(name, ns, "/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "Discovery", "zeroconf_peer.py"), .. args]);

    public List<JsonElement> Events
    {
        get { lock (_events) return [.. _events]; }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Events of <paramref name="kind"/> (the <c>event</c> field).</summary>
    public List<JsonElement> Of(string kind) => Events.FindAll(e => e.GetProperty("event").GetString() == kind);

    /// <summary>Peers named in events of <paramref name="kind"/> with node id <paramref name="nodeId"/>.</summary>
    public bool Saw(string kind, string nodeId) => Of(kind).Exists(e => e.TryGetProperty("nodeId", out var id) && id.GetString() == nodeId);

    /// <summary>Waits (polling, bounded) for <paramref name="condition"/>; fails with this process's output if it never holds.</summary>
    public async Task WaitForAsync(Func<NamespacedProcess, bool> condition, TimeSpan timeout, string what)
    {
        var ok = await Wait.UntilAsync(() => condition(this), timeout);
        Assert.True(ok, $"{Name}: {what} not seen within {timeout.TotalSeconds} s.\n{Describe()}");
    }

    /// <summary>SIGTERM: the clean stop (the host sends its goodbye and prints its counters).</summary>
    public void Terminate()
    {
        var (code, stdout, stderr) = ExternalTool.Run("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
        Assert.True(code == 0, $"kill -TERM {_process.Id}: {stdout}{stderr}");
    }

    /// <summary>SIGKILL: gone without a word, as after a power cut.</summary>
    public void KillHard() => _process.Kill();

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{Name} did not exit within {timeout.TotalSeconds} s.\n{Describe()}");
        }
        await _stdoutDone.WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public string Describe()
    {
        string stderr;
        lock (_stderr) stderr = _stderr.ToString();
        return $"--- {Name} stdout:\n{string.Join('\n', Events.Select(e => e.GetRawText()))}\n--- {Name} stderr:\n{stderr}";
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
