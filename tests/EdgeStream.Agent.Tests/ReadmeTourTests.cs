using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeStream.Agent.Tests;

/// <summary>
/// The README's Tour, run as written: the fenced block after the tour marker goes to bash with <c>edgestream</c>
/// on PATH (a wrapper that execs the built agent) and every fixed port swapped for a free one, so the README
/// fails CI the day it stops being true.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class ReadmeTourTests
{
    private const string Marker = "<!-- tour:";

    [Fact]
    public async Task Tour_RunsAsWritten_EveryRecordReachesTheCloudWithOrigin()
    {
        foreach (var tool in new[] { "curl", "mosquitto_pub" })
            Assert.True(ExternalToolExists(tool), $"the README tour needs {tool} (Debian: {(tool == "curl" ? "curl" : "mosquitto-clients")})");
        using var dir = new TempDirectory();
        var script = WithFreePorts(TourBlock(ReadReadme()));
        var bin = dir.Combine("bin");
        Directory.CreateDirectory(bin);
        // exec: a node started with `&` is then the process `$!` names, so `kill $gateway` reaches the agent itself.
        File.WriteAllText(Path.Combine(bin, "edgestream"), $"#!/bin/sh\nexec dotnet '{AgentProcess.AgentDll}' \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "edgestream"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // Whatever the tour leaves running is stopped (SIGTERM) and waited for when the script ends.
        var wrapped = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" + script;

        var (code, stdout, stderr) = await RunBashAsync(dir.Path, wrapped, bin, TimeSpan.FromMinutes(3));

        var logs = string.Join("\n", Directory.GetFiles(dir.Combine("tour"), "*.log").Select(f => $"--- {f}\n{File.ReadAllText(f)}"));
        Assert.True(code == 0, $"the tour failed ({code}).\nstdout:\n{stdout}\nstderr:\n{stderr}\n{logs}");
        var records = stdout.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var values = records.Select(r => r.GetProperty("value").GetString()).ToList();
        Assert.Equal(["temp=21.5", "temp=22.0", "21.7"], values);
        foreach (var record in records)
        {
            var headers = record.GetProperty("headers").EnumerateArray()
                .ToDictionary(h => h.GetProperty("key").GetString()!, h => h.GetProperty("value").GetString());
            Assert.Equal("edge-1", headers["es.origin.node"]);
            Assert.True(headers.ContainsKey("es.origin.offset"), $"no es.origin.offset in {record}");
        }
    }

    [Fact]
    public void Tour_IsRightAfterTheSetUpCommands()
    {
        var readme = ReadReadme();
        var tour = readme.IndexOf("\n## Tour\n", StringComparison.Ordinal);
        var install = readme.IndexOf("\n## Install on a device\n", StringComparison.Ordinal);

        Assert.InRange(tour, 0, readme.IndexOf("\n# EdgeStream\n", StringComparison.Ordinal));
        Assert.True(install > tour, "the Install on a device section follows the Tour");
        Assert.Contains("sudo ./install.sh", readme[install..]);
    }

    /// <summary>The fenced block after the tour marker.</summary>
    public static string TourBlock(string readme)
    {
        var marker = readme.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, $"README.md has no '{Marker}' marker");
        var open = readme.IndexOf("```sh\n", marker, StringComparison.Ordinal);
        Assert.True(open >= 0, "no ```sh block after the tour marker");
        var start = open + "```sh\n".Length;
        var close = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        Assert.True(close > start, "the tour block is not closed");
        return readme[start..close] + "\n";
    }

    /// <summary>Every port the tour names (127.0.0.1:PORT, mosquitto_pub's -p PORT) becomes one free port, consistently.</summary>
    public static string WithFreePorts(string script)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        string Free(string port)
        {
            if (!map.TryGetValue(port, out var free)) map[port] = free = AgentProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
            return free;
        }
        var replaced = Port().Replace(script, m => m.Groups["pre"].Value + Free(m.Groups["port"].Value));
        Assert.True(map.Count >= 10, $"the tour names only {map.Count} ports; expected every listener explicit");
        return replaced;
    }

    [GeneratedRegex(@"(?<pre>127\.0\.0\.1:|-p )(?<port>\d{4,5})\b")]
    private static partial Regex Port();

    private static string ReadReadme() => RepositoryFiles.ReadAllText("README.md");

    private static bool ExternalToolExists(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, name)));

    private static async Task<(int Code, string Stdout, string Stderr)> RunBashAsync(string workingDirectory, string script, string binDirectory, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("bash")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("EDGESTREAM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["PATH"] = binDirectory + ":" + psi.Environment["PATH"];
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"the tour did not finish within {timeout}.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
