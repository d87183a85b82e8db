using System.Security.Cryptography;
using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Files.Tests;

/// <summary>Running <c>edgestream send|receive</c> as real processes, and checking what landed.</summary>
internal static class FilesCli
{
    public static string[] SendArgs(string bootstrap, string state, params string[] args) =>
        ["send", .. args, "--bootstrap", bootstrap, "--state", state];

    // A guard against a hung sender, not a speed check (that is the file-transfer benchmark): the
    // 10 000-file tree needed more than 2 minutes in a CI run sharing its 2 cores with other suites.
    public static Task<(int ExitCode, string Stdout, string Stderr)> SendAsync(string workDir, string bootstrap, string state, params string[] args) =>
        AgentProcess.RunToExitAsync(workDir, SendArgs(bootstrap, state, args), timeout: TimeSpan.FromMinutes(6));

    public static string Sha(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Writes <paramref name="bytes"/> of seeded random data to <paramref name="path"/>, 1 MiB at a time (no big buffer).</summary>
    public static void WriteRandom(string path, long bytes, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1024 * 1024];
        using var stream = File.Create(path);
        for (long left = bytes; left > 0; left -= buffer.Length)
        {
            random.NextBytes(buffer);
            stream.Write(buffer, 0, (int)Math.Min(buffer.Length, left));
        }
    }

    /// <summary>Waits until <paramref name="path"/> exists with <paramref name="sha"/>; a file only ever appears whole (atomic rename).</summary>
    public static async Task AssertArrivesAsync(string path, string sha, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var arrived = await Wait.UntilAsync(() => File.Exists(path), timeout, TimeSpan.FromMilliseconds(100));
        Assert.True(arrived, $"{path} did not arrive within {timeout}. {diagnostics?.Invoke()}");
        Assert.Equal(sha, Sha(path));
    }

    /// <summary>The <c>files</c> object of a node's status.</summary>
    public static async Task<JsonElement> FilesStatusAsync(AgentNode node) => (await node.StatusAsync()).GetProperty("files");

    /// <summary>Every path under <paramref name="root"/> (files, directories, links), relative, sorted; the receiver's state directory left out.</summary>
    public static List<string> Tree(string root) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p))
            .Where(p => !p.StartsWith(".edgestream-files", StringComparison.Ordinal))
            .OrderBy(p => p, StringComparer.Ordinal)];
}
