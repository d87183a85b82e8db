using System.Diagnostics;
using System.Text;
using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs a process to completion with optional stdin bytes; fails the test if it outlives its deadline.</summary>
public static class CliProcess
{
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The real <c>edgestream</c> CLI (the agent built next to the tests), with no EDGESTREAM_* from the runner.</summary>
    public static Task<CliResult> EdgestreamAsync(IEnumerable<string> args, byte[]? stdin = null, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunAsync("dotnet", [AgentProcess.AgentDll, .. AgentProcess.WithLoopbackMesh(args, environment)], stdin, environment, timeout);

    public static Task<CliResult> KcatAsync(IEnumerable<string> args, byte[]? stdin = null, TimeSpan? timeout = null) =>
        RunAsync("kcat", args, stdin, null, timeout);

    /// <summary>Starts the CLI and returns the running process (for followers); the caller kills or awaits it.</summary>
    public static Process StartEdgestream(IEnumerable<string> args)
    {
        var psi = NewStartInfo("dotnet", [AgentProcess.AgentDll, .. AgentProcess.WithLoopbackMesh(args)], null);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start edgestream");
        process.StandardInput.Close();
        return process;
    }

    public static async Task<CliResult> RunAsync(string file, IEnumerable<string> args, byte[]? stdin, IReadOnlyDictionary<string, string>? environment, TimeSpan? timeout)
    {
        var argList = args.ToList();
        var psi = NewStartInfo(file, argList, environment);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            if (stdin is not null) await process.StandardInput.BaseStream.WriteAsync(stdin);
        }
        catch (IOException) { /* it exited before reading everything: its exit code and stderr tell why */ }
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? s_defaultTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', argList)} did not exit within {timeout ?? s_defaultTimeout}");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo NewStartInfo(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The child sees only the EDGESTREAM_* variables a test sets, never the runner's.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EDGESTREAM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        return psi;
    }
}
