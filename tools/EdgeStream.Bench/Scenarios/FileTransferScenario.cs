using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// file-transfer: <c>edgestream send</c> at an edge, forwarded edge → gateway → cloud over loopback, the
/// cloud materializing with <c>--files-dir</c>. Measured: one big file (<c>--big-mb</c>, default 1024) in
/// MB/s from the sender's start to the file being in place at the cloud (sender start-up included), next
/// to a raw loopback TCP copy of the same bytes in this process; then <c>--small</c> (10 000) files of
/// <c>--small-bytes</c> (10 KB) in files/s. Peak RSS of the sender (sampled every 20 ms) and of the
/// cloud (the receiver); CPU seconds (utime + stime) of the sender and of each tier, to tell where the time goes. <c>--agent</c> may be the NativeAOT executable, which the sender bound is for.
/// </summary>
public static class FileTransferScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var bigMB = args.Int("big-mb", 1024);
        var small = args.Int("small", 10_000);
        var smallBytes = args.Int("small-bytes", 10 * 1024);
        var agent = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-files-" + Environment.ProcessId));
        Console.WriteLine($"file-transfer: {bigMB:N0} MB file and {small:N0} x {smallBytes:N0} B files, edge -> gateway -> cloud on loopback, cloud --files-dir");
        Console.WriteLine($"  edgestream: {agent}");
        Directory.CreateDirectory(root);
        try
        {
            var cloudPorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
            var gatewayPorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
            var edgePorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
            var cloudUplink = ChildProcess.FreePort();
            var gatewayUplink = ChildProcess.FreePort();
            var received = Path.Combine(root, "received");
            await using var cloud = await Servers.StartAgentAsync(agent, Path.Combine(root, "cloud"), cloudPorts, "cloud",
                ["--node-id", "cloud-1", "--uplink", $"127.0.0.1:{cloudUplink}", "--files-dir", received]);
            await using var gateway = await Servers.StartAgentAsync(agent, Path.Combine(root, "gateway"), gatewayPorts, "gateway",
                ["--node-id", "gw-1", "--uplink", $"127.0.0.1:{gatewayUplink}", "--parent", $"127.0.0.1:{cloudUplink}"]);
            await using var edge = await Servers.StartAgentAsync(agent, Path.Combine(root, "edge"), edgePorts, "edge",
                ["--node-id", "edge-1", "--parent", $"127.0.0.1:{gatewayUplink}"]);
            var bootstrap = $"127.0.0.1:{edgePorts.Kafka}";

            // The big file.
            var big = Path.Combine(root, "src", "big.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(big)!);
            WriteRandom(big, (long)bigMB * 1024 * 1024);
            int[] tiers = [edge.Pid, gateway.Pid, cloud.Pid];
            var cpuBefore = tiers.Select(KafkaFetchSessionsScenario.CpuTime).ToArray();
            var bigRun = await SendAsync(agent, root, bootstrap, [big], Path.Combine(received, "edge-1", "big.bin"), cloud.Pid, null);
            var bigCpu = tiers.Select((pid, i) => (KafkaFetchSessionsScenario.CpuTime(pid) - cpuBefore[i]).TotalSeconds).ToArray();
            var sha = Sha(big);
            var arrivedSha = Sha(Path.Combine(received, "edge-1", "big.bin"));
            if (sha != arrivedSha) throw new InvalidOperationException($"the big file arrived with SHA-256 {arrivedSha}, sent {sha}");
            var rawMBps = await UplinkScenarios.RawTcpMBpsAsync((long)bigMB * 1024 * 1024);
            Console.WriteLine(FormattableString.Invariant($"  big file: {bigRun.Seconds:N2} s, {bigMB / bigRun.Seconds:N1} MB/s; raw loopback TCP {rawMBps:N0} MB/s; SHA-256 equal"));

            // Many small files.
            var tree = Path.Combine(root, "src", "small");
            var random = new Random(5);
            var buffer = new byte[smallBytes];
            for (var i = 0; i < small; i++)
            {
                var path = Path.Combine(tree, $"d{i % 100:D2}", $"f{i:D5}.dat");
                if (i < 100) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                random.NextBytes(buffer);
                File.WriteAllBytes(path, buffer);
            }
            cpuBefore = tiers.Select(KafkaFetchSessionsScenario.CpuTime).ToArray();
            var smallRun = await SendAsync(agent, root, bootstrap, [tree], null, cloud.Pid, (cloudPorts.Http, small + 1));
            var smallCpu = tiers.Select((pid, i) => (KafkaFetchSessionsScenario.CpuTime(pid) - cpuBefore[i]).TotalSeconds).ToArray();
            Console.WriteLine(FormattableString.Invariant($"  small files: {smallRun.Seconds:N2} s, {small / smallRun.Seconds:N0} files/s"));
            Console.WriteLine();

            Report.Header("transfer", "seconds", "MB/s", "raw TCP MB/s", "vs raw TCP", "files/s", "sender peak RSS MB", "cloud peak RSS MB",
                "CPU s sender", "CPU s edge", "CPU s gateway", "CPU s cloud");
            Report.Row($"{bigMB:N0} MB file", bigRun.Seconds, bigMB / bigRun.Seconds, rawMBps, bigMB / bigRun.Seconds / rawMBps, 1 / bigRun.Seconds, bigRun.SenderPeakMB, bigRun.CloudPeakMB,
                bigRun.SenderCpuSeconds, bigCpu[0], bigCpu[1], bigCpu[2]);
            var smallMB = (double)small * smallBytes / (1024 * 1024);
            Report.Row($"{small:N0} x {smallBytes / 1024:N0} KB", smallRun.Seconds, smallMB / smallRun.Seconds, "", "", small / smallRun.Seconds, smallRun.SenderPeakMB, smallRun.CloudPeakMB,
                smallRun.SenderCpuSeconds, smallCpu[0], smallCpu[1], smallCpu[2]);
        }
        finally
        {
            UplinkScenarios.TryDelete(root);
        }
        return 0;
    }

    private readonly record struct Run(double Seconds, double SenderPeakMB, double CloudPeakMB, double SenderCpuSeconds);

    /// <summary>
    /// Runs <c>send</c> and waits until <paramref name="arrival"/> exists at the cloud, or until the cloud's status
    /// counts <paramref name="completed"/> files; samples the sender's and the cloud's RSS meanwhile.
    /// </summary>
    private static async Task<Run> SendAsync(string agent, string root, string bootstrap, string[] paths, string? arrival, int cloudPid, (int HttpPort, int Count)? completed)
    {
        var native = !agent.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        List<string> sendArgs = ["send", .. paths, "--bootstrap", bootstrap, "--state", Path.Combine(root, "send-state")];
        var clock = Stopwatch.StartNew();
        await using var sender = native ? ChildProcess.Start("send", agent, sendArgs, root) : ChildProcess.Start("send", "dotnet", [agent, .. sendArgs], root);
        double senderPeak = 0, cloudPeak = 0, senderCpu = 0;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var nextStatus = 0L;
        var deadline = DateTime.UtcNow.AddMinutes(15);
        while (true)
        {
            if (!sender.HasExited)
            {
                senderPeak = Math.Max(senderPeak, UplinkScenarios.RssMB(sender.Pid));
                try { senderCpu = KafkaFetchSessionsScenario.CpuTime(sender.Pid).TotalSeconds; } catch (IOException) { }
            }
            cloudPeak = Math.Max(cloudPeak, UplinkScenarios.RssMB(cloudPid));
            if (arrival is not null && File.Exists(arrival)) break;
            if (completed is { } c && clock.ElapsedMilliseconds >= nextStatus)
            {
                nextStatus = clock.ElapsedMilliseconds + 100;
                var status = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{c.HttpPort}/v1/status");
                if (status.TryGetProperty("files", out var files) && files.GetProperty("filesCompleted").GetInt64() >= c.Count) break;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the files did not arrive within 15 minutes; sender output:\n{sender.Output}");
            await Task.Delay(20);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        // The sender exits on its own once everything is acknowledged at the edge, which comes before the cloud.
        var exited = await Task.Run(() => { for (var i = 0; i < 600 && !sender.HasExited; i++) Thread.Sleep(100); return sender.HasExited; });
        if (!exited) throw new TimeoutException($"the sender did not exit; output:\n{sender.Output}");
        return new Run(seconds, senderPeak, cloudPeak, senderCpu);
    }

    private static void WriteRandom(string path, long bytes)
    {
        var random = new Random(1);
        var buffer = new byte[1024 * 1024];
        using var stream = File.Create(path);
        for (long left = bytes; left > 0; left -= buffer.Length)
        {
            random.NextBytes(buffer);
            stream.Write(buffer, 0, (int)Math.Min(buffer.Length, left));
        }
    }

    private static string Sha(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
