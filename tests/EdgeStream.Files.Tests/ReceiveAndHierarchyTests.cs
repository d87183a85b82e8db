using EdgeStream.TestSupport;

namespace EdgeStream.Files.Tests;

/// <summary>
/// <c>edgestream receive</c> as a standalone group consumer, and files forwarded edge → gateway → cloud with
/// tiers killed mid-transfer.
/// </summary>
public sealed class ReceiveAndHierarchyTests
{
    /// <summary>
    /// The hierarchy test sends this many bytes; EDGESTREAM_FILES_BIG=1 makes it the issue's 1 GiB (about two
    /// minutes more on a 2-core machine, so opt-in).
    /// </summary>
    private static long HierarchyBytes => Environment.GetEnvironmentVariable("EDGESTREAM_FILES_BIG") == "1" ? 1L << 30 : 192L * 1024 * 1024;

    [Fact]
    public async Task Receive_GroupMemberKilledMidFileAndRestarted_CompletesUncorrupted()
    {
        using var dir = new TempDirectory();
        // Any Kafka-protocol broker: an EdgeStream node without --files-dir is only a broker here.
        await using var broker = await AgentNode.StartAsync(dir.Combine("broker"), "edge", "--node-id", "broker-1");
        var file = dir.Combine("data.bin");
        FilesCli.WriteRandom(file, 128L * 1024 * 1024, seed: 11);
        var sha = FilesCli.Sha(file);
        var sent = await FilesCli.SendAsync(dir.Path, broker.Bootstrap, dir.Combine("state"), file, "--chunk", "256KiB");
        Assert.True(sent.ExitCode == 0, sent.Stderr);

        var output = dir.Combine("out");
        string[] receive = ["receive", "--dir", output, "--group", "archivers", "--bootstrap", broker.Bootstrap];
        var partial = Path.Combine(output, ".edgestream-files", "partial");
        using (var first = AgentProcess.Start(dir.Path, receive))
        {
            // Mid-file: some chunks durable (a state file written), the file not complete yet.
            var midway = await Wait.UntilAsync(() => first.HasExited
                || Directory.Exists(partial) && Directory.EnumerateFiles(partial, "*.state").Any(), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(5));
            Assert.True(midway && !first.HasExited, $"receive did not start writing:\n{first.Stderr}");
            await first.KillAsync();
        }
        // A plain broker adds no origin node: files are filed under the sender's host name (file.host).
        var origin = Environment.MachineName;
        var target = Path.Combine(output, origin, "data.bin");
        Assert.False(File.Exists(target), "the file was complete before the kill; the test needs a bigger file");

        using var second = AgentProcess.Start(dir.Path, receive);
        await FilesCli.AssertArrivesAsync(target, sha, TimeSpan.FromSeconds(90), () => second.Stderr);
        Assert.Equal([origin, $"{origin}/data.bin"], FilesCli.Tree(output));
        // The receiver renames the data into place first and removes its state file after: on a loaded machine the
        // test can see the file before the state file is gone.
        var cleaned = await Wait.UntilAsync(() => !Directory.EnumerateFiles(partial).Any(), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        Assert.True(cleaned, $"left in {partial}: {string.Join(", ", Directory.EnumerateFiles(partial).Select(Path.GetFileName))}");
        Assert.Equal(0, await second.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Receive_KilledWithSigkillWhileMaterializingSmallFiles_EachFileOnceAndWhole()
    {
        using var dir = new TempDirectory();
        await using var broker = await AgentNode.StartAsync(dir.Combine("broker"), "edge", "--node-id", "broker-1");
        // Many small files (some empty, some of several chunks) so that kills land between a batch's fsyncs, its journal
        // write, its renames and the commit of the consumer position.
        const int count = 600;
        var expected = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var random = new Random(12);
        for (var i = 0; i < count; i++)
        {
            var relative = $"tree/d{i % 12:D2}/f{i:D3}.dat";
            var bytes = new byte[i % 50 == 0 ? 0 : random.Next(1, 12_000)];
            random.NextBytes(bytes);
            Directory.CreateDirectory(Path.GetDirectoryName(dir.Combine("src", relative))!);
            File.WriteAllBytes(dir.Combine("src", relative), bytes);
            expected[relative] = bytes;
        }
        var sent = await FilesCli.SendAsync(dir.Path, broker.Bootstrap, dir.Combine("state"), dir.Combine("src", "tree"), "--chunk", "4KiB");
        Assert.True(sent.ExitCode == 0, sent.Stderr);

        var output = dir.Combine("out");
        var origin = Environment.MachineName;
        string[] receive = ["receive", "--dir", output, "--group", "killed", "--bootstrap", broker.Bootstrap];
        // A file put in place a second time would get the sender's mtime back; the test marks every file it has seen.
        var seen = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        var marked = new HashSet<string>(StringComparer.Ordinal);
        var logs = new System.Text.StringBuilder();
        var kills = 0;
        for (var round = 0; round < 4; round++)
        {
            using var receiver = AgentProcess.Start(dir.Path, receive);
            var target = count * round / 5 + random.Next(1, count / 5);
            var reached = await Wait.UntilAsync(() => receiver.HasExited || Visible(output, origin).Count >= target, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(2));
            Assert.True(reached && !receiver.HasExited, $"round {round}: the receiver did not reach {target} files:\n{receiver.Stderr}");
            await receiver.KillAsync();
            kills++;
            logs.Append(receiver.Stderr);
            // Whatever is visible is whole and right: renames are atomic and only verified, fsynced data is renamed.
            foreach (var relative in Visible(output, origin))
            {
                var path = Path.Combine(output, origin, relative);
                Assert.True(expected.TryGetValue(relative, out var bytes), $"unexpected {relative}");
                Assert.Equal(bytes, File.ReadAllBytes(path));
                File.SetLastWriteTimeUtc(path, seen);
                marked.Add(relative);
            }
        }
        Assert.True(kills >= 3, "the receiver finished before it was killed three times");

        using (var last = AgentProcess.Start(dir.Path, receive))
        {
            var all = await Wait.UntilAsync(() => Visible(output, origin).Count == count, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(50));
            Assert.True(all, $"{Visible(output, origin).Count} of {count} files arrived:\n{last.Stderr}");
            Assert.Equal(0, await last.StopAsync(TimeSpan.FromSeconds(30)));
            logs.Append(last.Stderr);
        }
        foreach (var (relative, bytes) in expected)
        {
            var path = Path.Combine(output, origin, relative);
            Assert.Equal(bytes, File.ReadAllBytes(path));
            // Put in place once: either in the final run or, marked by the test, in an earlier one and never again.
            var mtime = File.GetLastWriteTimeUtc(path);
            var materialized = Count(logs, $"File {relative} from {origin} complete:") + Count(logs, $"File {origin}/{relative} put in place at start");
            Assert.True(materialized <= 1, $"{relative} was put in place {materialized} times");
            Assert.Equal(marked.Contains(relative) ? seen : File.GetLastWriteTimeUtc(dir.Combine("src", relative)), mtime);
        }
    }

    /// <summary>The files (relative to the origin's directory, '/'-separated) a receiver has put under <paramref name="output"/>.</summary>
    private static List<string> Visible(string output, string origin)
    {
        var root = Path.Combine(output, origin);
        if (!Directory.Exists(root)) return [];
        try
        {
            return [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))];
        }
        catch (DirectoryNotFoundException) { return []; }
    }

    private static int Count(System.Text.StringBuilder text, string what)
    {
        var s = text.ToString();
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    [Fact]
    public async Task EdgeGatewayCloud_GatewayKilledMidTransfer_FileArrivesAtCloudIntact()
    {
        using var dir = new TempDirectory();
        var cloudFiles = dir.Combine("cloud-files");
        await using var cloud = await AgentNode.StartAsync(dir.Combine("cloud"), "cloud", "--node-id", "cloud-1", "--files-dir", cloudFiles);
        // The edge's cap makes the transfer last long enough to kill the gateway in the middle of it.
        await using var gateway = await AgentNode.StartAsync(dir.Combine("gateway"), "gateway", "--node-id", "gw-1", "--parent", $"127.0.0.1:{cloud.UplinkPort}");
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge", "--node-id", "edge-a", "--parent", $"127.0.0.1:{gateway.UplinkPort}",
            "--uplink-rate", "40MiB/s");
        var file = dir.Combine("flight.bin");
        FilesCli.WriteRandom(file, HierarchyBytes, seed: 21);
        var sha = FilesCli.Sha(file);

        var sent = await FilesCli.SendAsync(dir.Path, edge.Bootstrap, dir.Combine("state"), file);
        Assert.True(sent.ExitCode == 0, sent.Stderr);

        // Kill -9 the gateway once the cloud is part way through the file, then bring it back.
        var midway = await Wait.UntilAsync(async () =>
        {
            var files = await FilesCli.FilesStatusAsync(cloud);
            foreach (var origin in files.GetProperty("origins").EnumerateArray())
                foreach (var f in origin.GetProperty("inFlight").EnumerateArray())
                    if (f.GetProperty("received").GetInt64() > 0) return true;
            return false;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(20));
        Assert.True(midway, "no chunk reached the cloud");
        var target = Path.Combine(cloudFiles, "edge-a", "flight.bin");
        Assert.False(File.Exists(target), "the file was at the cloud before the gateway was killed; the test needs a bigger file or a lower cap");
        await gateway.RestartAsync(kill: true);

        await FilesCli.AssertArrivesAsync(target, sha, TimeSpan.FromSeconds(180), () => cloud.Process.Stdout);
        Assert.Equal(["edge-a", "edge-a/flight.bin"], FilesCli.Tree(cloudFiles));

        // Forwarded with a lower uplink priority than event topics at every tier.
        var described = await AgentProcess.RunToExitAsync(dir.Path, ["topics", "describe", "files", "--bootstrap", gateway.Bootstrap]);
        Assert.Contains("* uplink.priority=-10", described.Stdout);
    }
}
