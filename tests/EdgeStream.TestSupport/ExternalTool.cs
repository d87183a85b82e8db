using System.Diagnostics;
using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>Runs a real peer program (kcat, python3, mosquitto_pub/sub) the way a user would: its output captured, its run bounded.</summary>
public static class ExternalTool
{
    /// <summary>Starts <paramref name="file"/> with stdout/stderr captured and stdin closed (for long-running peers a test kills).</summary>
    public static Process Start(string file, IEnumerable<string> args) => StartCore(file, args, stdin: null);

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, TimeSpan timeout) =>
        Run(file, args, stdin: null, timeout);

    /// <summary>Runs to completion, feeding <paramref name="stdin"/>; a run past the timeout is killed and fails the test with its output.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        using var p = StartCore(file, args, stdin);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"{file} {string.Join(' ', p.StartInfo.ArgumentList)} did not finish within {limit}.\nstdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        }
        p.WaitForExit(); // drains the redirected streams
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static Process StartCore(string file, IEnumerable<string> args, string? stdin)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        return p;
    }
}
