using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Files.Tests;

/// <summary><c>edgestream send</c> to an edge that materializes with <c>--files-dir</c>: real processes on loopback.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SendTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(60);

    private static async Task<(TempDirectory Dir, AgentNode Edge, string Out)> EdgeAsync(string nodeId = "edge-a")
    {
        var dir = new TempDirectory();
        var output = dir.Combine("received");
        var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", nodeId, "--files-dir", output);
        return (dir, edge, output);
    }

    [Fact]
    public async Task Send_TreeOfSmallAndEmptyFilesWithModes_ArrivesIdentical()
    {
        var (dir, edge, output) = await EdgeAsync();
        using var _ = dir;
        await using var __ = edge;
        var src = dir.Combine("src", "tree");
        const int files = 10_000;
        var random = new Random(12);
        var expected = new Dictionary<string, (string Sha, UnixFileMode Mode)>();
        UnixFileMode[] modes = [(UnixFileMode)0x1A4, (UnixFileMode)0x180, (UnixFileMode)0x1ED, (UnixFileMode)0x124];
        for (var i = 0; i < files; i++)
        {
            var relative = $"d{i % 20:D2}/s{i % 7}/f{i:D5}.dat";
            var path = Path.Combine(src, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var data = new byte[i % 50 == 0 ? 0 : random.Next(1, 3000)]; // every 50th file empty
            random.NextBytes(data);
            File.WriteAllBytes(path, data);
            var mode = modes[i % modes.Length];
            File.SetUnixFileMode(path, mode);
            expected["tree/" + relative] = (Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), mode);
        }

        var (code, stdout, stderr) = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, dir.Combine("state"), src, "--json");
        Assert.True(code == 0, $"send exited {code}\n{stderr}");
        Assert.Contains("\"event\":\"summary\"", stdout);

        var root = Path.Combine(output, "edge-a");
        var all = await Wait.UntilAsync(async () => (await FilesCli.FilesStatusAsync(edge)).GetProperty("filesCompleted").GetInt64() >= files,
            TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(250));
        Assert.True(all, $"only {(await FilesCli.FilesStatusAsync(edge)).GetProperty("filesCompleted")} of {files} files arrived");
        foreach (var (relative, (sha, mode)) in expected)
        {
            var path = Path.Combine(root, relative);
            Assert.Equal(sha, FilesCli.Sha(path));
            Assert.Equal(mode, File.GetUnixFileMode(path));
        }
        var tree = FilesCli.Tree(root).Where(p => File.Exists(Path.Combine(root, p))).ToList();
        Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), tree);
    }

    [Fact]
    public async Task Send_KilledWithSigkillFiveTimes_ResumesAndSendsUnder1_1xTheFile()
    {
        var (dir, edge, output) = await EdgeAsync();
        using var _ = dir;
        await using var __ = edge;
        var file = dir.Combine("big.bin");
        const long size = 96L * 1024 * 1024;
        const int chunk = 64 * 1024;
        FilesCli.WriteRandom(file, size, seed: 5);
        var sha = FilesCli.Sha(file);
        string[] args = [file, "--chunk", "64KiB"];
        var state = dir.Combine("state");

        var kills = 0;
        var resumed = 0;
        var random = new Random(7);
        const int chunks = (int)(size / chunk);
        for (var round = 0; round < 6; round++)
        {
            using var sender = AgentProcess.Start(dir.Path, FilesCli.SendArgs(edge.Bootstrap, state, args));
            // A random point in each sixth of the file: wait until the sender's own state says that many chunks are
            // acknowledged (so every round makes progress), then SIGKILL it.
            var target = chunks * round / 6 + random.Next(chunks / 60, chunks / 6);
            var reached = await Wait.UntilAsync(() => sender.HasExited || AckedChunks(state) >= target, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(2));
            Assert.True(reached, $"round {round}: the sender did not reach chunk {target}:\n{sender.Stderr}");
            if (sender.HasExited) break;
            await sender.KillAsync();
            kills++;
            if (sender.Stdout.Contains("resuming")) resumed++;
        }
        Assert.True(kills >= 5, $"only {kills} kills before the file was sent; make it bigger");

        var (code, stdout, stderr) = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, args);
        Assert.True(code == 0, $"final send exited {code}\n{stderr}");
        Assert.True(resumed > 0 || stdout.Contains("resuming"), $"no run said it resumed:\n{stdout}");
        await FilesCli.AssertArrivesAsync(Path.Combine(output, "edge-a", "big.bin"), sha, Arrival);

        // Every record in the topic is one chunk (or the manifest): what all runs together put in the log.
        // (This edge's files topic holds nothing else.)
        var records = LogReader.Count(edge.Bootstrap, "files");
        Assert.True(records <= chunks * 1.1 + 1, $"{records} records for {chunks} chunks after {kills} kills: {records * 100.0 / chunks:0.0}%");
    }

    /// <summary>The acknowledged chunk count in the sender's one state file (see SendStateStore), 0 before it exists.</summary>
    private static int AckedChunks(string stateDirectory)
    {
        if (!Directory.Exists(stateDirectory)) return 0;
        foreach (var file in Directory.EnumerateFiles(stateDirectory, "*.state", SearchOption.AllDirectories))
        {
            try
            {
                var parts = File.ReadAllText(file).Trim().Split(' ');
                return parts.Length == 7 ? int.Parse(parts[5]) : 0;
            }
            catch (IOException) { return 0; }
        }
        return 0;
    }

    [Fact]
    public async Task Send_Again_UnchangedSkipped_ChangedSentAsNewVersion()
    {
        var (dir, edge, output) = await EdgeAsync();
        using var _ = dir;
        await using var __ = edge;
        var file = dir.Combine("report.csv");
        File.WriteAllText(file, "a,b\n1,2\n");
        var state = dir.Combine("state");
        var first = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, file);
        Assert.True(first.ExitCode == 0, first.Stderr);
        await FilesCli.AssertArrivesAsync(Path.Combine(output, "edge-a", "report.csv"), FilesCli.Sha(file), Arrival);

        var second = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, file);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("unchanged since it was sent: report.csv", second.Stdout);
        Assert.Contains("0 B sent", second.Stdout);

        File.WriteAllText(file, "a,b\n1,2\n3,4\n");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        var third = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, file);
        Assert.Equal(0, third.ExitCode);
        Assert.Contains("sent report.csv", third.Stdout);
        var target = Path.Combine(output, "edge-a", "report.csv");
        Assert.True(await Wait.UntilAsync(() => File.Exists(target) && File.ReadAllText(target).Contains("3,4"), Arrival, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task Send_ExitCodes_SymlinkSkippedMissingFailsBadUsage()
    {
        var (dir, edge, _) = await EdgeAsync();
        using var __ = dir;
        await using var ___ = edge;
        File.WriteAllText(dir.Combine("ok.txt"), "ok");
        File.CreateSymbolicLink(dir.Combine("link.txt"), "/etc/hostname");
        var state = dir.Combine("state");

        var links = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, dir.Combine("ok.txt"), dir.Combine("link.txt"));
        Assert.Equal(0, links.ExitCode);
        Assert.Contains("symbolic link, not followed", links.Stderr);

        var missing = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, dir.Combine("ok.txt"), dir.Combine("nope.txt"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.txt: no such file or directory", missing.Stderr);

        var usage = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, dir.Combine("ok.txt"), "--chunk", "1");
        Assert.Equal(2, usage.ExitCode);
        var twoAs = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, state, dir.Combine("ok.txt"), dir.Combine("ok.txt"), "--as", "x");
        Assert.Equal(2, twoAs.ExitCode);
    }

    [Fact]
    public async Task Receiver_WrongHashChunkByHand_ReportedNotMaterialized_CorrectChunkCompletes()
    {
        var (dir, edge, output) = await EdgeAsync();
        using var _ = dir;
        await using var __ = edge;
        var data = new byte[3000];
        new Random(3).NextBytes(data);
        var good = Records.ForFile("hand/made.bin", data, chunkSize: 1000);
        var bad = good[1].Value.ToArray();
        bad[10] ^= 0x55;

        using var producer = Records.Producer(edge.Bootstrap);
        await producer.ProduceAsync("files", good[0]);
        await producer.ProduceAsync("files", new Message<byte[], byte[]> { Key = good[1].Key, Value = bad, Headers = good[1].Headers });
        await producer.ProduceAsync("files", good[2]);
        await producer.ProduceAsync("files", good[3]); // the manifest
        var target = Path.Combine(output, "edge-a", "hand", "made.bin");

        var reported = await Wait.UntilAsync(async () => (await FilesCli.FilesStatusAsync(edge)).GetProperty("badChunks").GetInt64() == 1, Arrival, TimeSpan.FromMilliseconds(100));
        Assert.True(reported, (await FilesCli.FilesStatusAsync(edge)).ToString());
        var entry = (await FilesCli.FilesStatusAsync(edge)).GetProperty("origins")[0].GetProperty("inFlight")[0];
        Assert.Equal("bad-chunk", entry.GetProperty("state").GetString());
        Assert.False(File.Exists(target));
        Assert.Contains("does not match its SHA-256", edge.Process.Stdout + edge.Process.Stderr);

        await producer.ProduceAsync("files", good[1]);
        await FilesCli.AssertArrivesAsync(target, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), Arrival);
    }

    [Fact]
    public async Task Receiver_TraversalRecordsAndPlantedSymlink_RefusedNothingWrittenOutside()
    {
        var (dir, edge, output) = await EdgeAsync();
        using var _ = dir;
        await using var __ = edge;
        using var outside = new TempDirectory();
        using var producer = Records.Producer(edge.Bootstrap);
        string[] hostile = ["../../escape.txt", "/tmp/abs.txt", "a/../../../escape.txt", "a\\..\\..\\escape.txt", "nul\0byte.txt", new string('n', 300), Path.GetRelativePath(output, outside.Combine("x.txt"))];
        var n = 0;
        foreach (var path in hostile)
            foreach (var m in Records.ForFile(path, Encoding.UTF8.GetBytes("evil"), 1000, id: $"{n++:D32}"))
                await producer.ProduceAsync("files", m);

        // A link planted under the receiver's directory, pointing outside, and a legitimate sender that goes through it.
        Directory.CreateDirectory(Path.Combine(output, "edge-a"));
        File.CreateSymbolicLink(Path.Combine(output, "edge-a", "planted"), outside.Path);
        File.WriteAllText(dir.Combine("evil.txt"), "through the link");
        var sent = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, dir.Combine("state"), dir.Combine("evil.txt"), "--as", "planted/evil.txt");
        Assert.Equal(0, sent.ExitCode);

        var rejected = await Wait.UntilAsync(async () => (await FilesCli.FilesStatusAsync(edge)).GetProperty("rejectedRecords").GetInt64() >= 2 * hostile.Length + 1,
            Arrival, TimeSpan.FromMilliseconds(100));
        Assert.True(rejected, (await FilesCli.FilesStatusAsync(edge)).ToString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside.Path));
        Assert.Equal(["edge", "evil.txt", "received", "state"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["edge-a", "edge-a/planted"], FilesCli.Tree(output));
        Assert.False(File.Exists("/tmp/abs.txt") && File.ReadAllText("/tmp/abs.txt") == "evil");
    }
}
