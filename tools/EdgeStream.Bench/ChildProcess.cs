using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeStream.Bench;

/// <summary>
/// A server the bench starts for one run (the agent, nats-server): output kept in memory for the
/// error message if it dies, stopped with SIGTERM (then SIGKILL) when disposed.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (stdout and stderr interleaved).</summary>
    public string Output { get { lock (_outputLock) return _output.ToString(); } }

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EDGESTREAM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return child;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_outputLock)
        {
            // Keep the tail only: a long run must not grow the bench's memory.
            if (_output.Length > 64 * 1024) _output.Remove(0, _output.Length - 32 * 1024);
            _output.AppendLine(line);
        }
    }

    /// <summary>Polls <paramref name="ready"/> until it returns true; throws if the process exits or the deadline passes.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before it was ready:\n{Output}");
            if (await ready().ConfigureAwait(false)) return;
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new TimeoutException($"{Name} was not ready within {timeout}:\n{Output}");
    }

    /// <summary>True once something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> AcceptsAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A port that was free a moment ago on 127.0.0.1.</summary>
    /// <summary>
    /// A loopback port free now and never handed out before in this process: the kernel may give a
    /// just-closed ephemeral port out again, and a scenario allocates all its nodes' ports up front.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (s_handedOut)
            {
                if (s_handedOut.Add(port)) return port;
            }
        }
        throw new InvalidOperationException("no loopback port not handed out before in 100 attempts");
    }

    private static readonly HashSet<int> s_handedOut = [];

    /// <summary>SIGKILL (kill -9): gone without a word; returns once the process has exited.</summary>
    public async Task KillAsync()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = kill(_process.Id, Sigterm);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try { await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    private const int Sigterm = 15;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
