using System.Diagnostics;
using System.Net.Http.Json;
using Confluent.Kafka;
using EdgeStream.Security.Certificates;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// tls-cost: what TLS costs the agent. The same agent build runs twice per round, in clear text and
/// with <c>--tls-cert/--tls-key/--tls-ca</c> (a fleet CA and node certificate made for the run);
/// a Confluent.Kafka producer (acks=1, linger 5 ms, SSL when the agent has TLS) sends
/// <c>--mb</c> of 1 KB records, then a consumer reads them all back. Reported per run: produce and
/// consume MB/s and the agent's CPU time per MB moved (utime + stime from /proc), and the TLS/clear
/// ratio of CPU per MB. Then the uplink: an edge holding <c>--uplink-mb</c> of 1 KB records drains
/// them to a gateway started after it, in clear text (h2c) and with mutual TLS (each node its own
/// certificate from the same fleet CA); CPU of both agents per MB from the gateway's start until it
/// holds every record, and again from its first quarter on (the handshake and the JIT's first
/// compilations behind), with what the link carried (the sender's compressed bytes and frame size).
/// <c>--uplink-values random</c> makes the records incompressible, so TLS encrypts every byte.
/// Rounds alternate so machine noise falls on both.
/// </summary>
public static class TlsCostScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var megabytes = args.Int("mb", 128);
        var warmupMb = args.Int("warmup-mb", 0);
        var rounds = args.Int("rounds", 3);
        var agent = Servers.AgentDll(args);
        var root = Directory.CreateTempSubdirectory("edgestream-bench-tls-").FullName;
        try
        {
            FleetCertificates.InitAuthority(Path.Combine(root, "ca"), "bench CA", force: false);
            FleetCertificates.IssueNode(Path.Combine(root, "ca"), "bench-node", Path.Combine(root, "certs"), ["127.0.0.1"], 30, force: false);
            var ca = Path.Combine(root, "certs", FleetCertificates.CaCertificateFile);
            string[] tlsFlags = ["--tls-cert", Path.Combine(root, "certs", "bench-node.crt"), "--tls-key", Path.Combine(root, "certs", "bench-node.key"), "--tls-ca", ca];
            Console.WriteLine($"tls-cost: {megabytes} MB of 1 KB records produced then consumed, clear text and TLS alternating, {rounds} rounds"
                + (warmupMb > 0 ? $", each agent warmed up with {warmupMb} MB first (not counted)" : "") + $"; agent {agent}");
            Report.Header("round", "mode", "produce MB/s", "consume MB/s", "agent CPU ms/MB", "TLS / clear CPU");
            var ratios = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var clear = await MeasureAsync(agent, Path.Combine(root, $"clear-{round}"), megabytes, warmupMb, [], null).ConfigureAwait(false);
                var tls = await MeasureAsync(agent, Path.Combine(root, $"tls-{round}"), megabytes, warmupMb, tlsFlags, ca).ConfigureAwait(false);
                var ratio = tls.CpuMsPerMb / clear.CpuMsPerMb;
                ratios.Add(ratio);
                Report.Row(round, "clear", clear.ProduceMbPerSecond, clear.ConsumeMbPerSecond, clear.CpuMsPerMb, "");
                Report.Row(round, "TLS", tls.ProduceMbPerSecond, tls.ConsumeMbPerSecond, tls.CpuMsPerMb, $"{ratio:F2}x");
            }
            ratios.Sort();
            Console.WriteLine($"median TLS / clear agent CPU per MB: {ratios[ratios.Count / 2]:F2}x (goal ≤ 1.30x)");

            var uplinkMb = args.Int("uplink-mb", 128);
            if (uplinkMb > 0)
            {
                foreach (var node in (string[])["bench-edge", "bench-gateway"])
                    FleetCertificates.IssueNode(Path.Combine(root, "ca"), node, Path.Combine(root, "certs"), ["127.0.0.1"], 30, force: false);
                Console.WriteLine();
                // --uplink-values random: records LZ4 cannot compress, so the link carries every byte (default: one value repeated).
                var distinct = args.String("uplink-values", "repeated") switch
                {
                    "repeated" => false,
                    "random" => true,
                    var other => throw new ArgumentException($"--uplink-values {other}: repeated or random"),
                };
                Console.WriteLine($"tls-cost uplink: {uplinkMb} MB of 1 KB records ({(distinct ? "random" : "one repeated")} values) drained edge -> gateway, h2c and mutual TLS alternating, {rounds} rounds");
                Report.Header("round", "mode", "drain MB/s", "edge CPU ms/MB", "gateway CPU ms/MB", "both CPU ms/MB", "TLS / clear CPU",
                    "first record s", "steady MB/s", "steady CPU ms/MB", "steady TLS / clear", "wire / raw", "KiB / frame");
                var uplinkRatios = new List<double>();
                var steadyRatios = new List<double>();
                for (var round = 1; round <= rounds; round++)
                {
                    var clear = await DrainAsync(agent, Path.Combine(root, $"uplink-clear-{round}"), uplinkMb, root, tls: false, distinct).ConfigureAwait(false);
                    var tls = await DrainAsync(agent, Path.Combine(root, $"uplink-tls-{round}"), uplinkMb, root, tls: true, distinct).ConfigureAwait(false);
                    var ratio = tls.BothCpuMsPerMb / clear.BothCpuMsPerMb;
                    var steadyRatio = tls.SteadyCpuMsPerMb / clear.SteadyCpuMsPerMb;
                    uplinkRatios.Add(ratio);
                    steadyRatios.Add(steadyRatio);
                    Report.Row(round, "h2c", clear.MbPerSecond, clear.EdgeCpuMsPerMb, clear.GatewayCpuMsPerMb, clear.BothCpuMsPerMb, "",
                        clear.FirstRecordSeconds, clear.SteadyMbPerSecond, clear.SteadyCpuMsPerMb, "", $"{clear.WireShare:P1}", clear.FrameKib);
                    Report.Row(round, "mTLS", tls.MbPerSecond, tls.EdgeCpuMsPerMb, tls.GatewayCpuMsPerMb, tls.BothCpuMsPerMb, $"{ratio:F2}x",
                        tls.FirstRecordSeconds, tls.SteadyMbPerSecond, tls.SteadyCpuMsPerMb, $"{steadyRatio:F2}x", $"{tls.WireShare:P1}", tls.FrameKib);
                }
                uplinkRatios.Sort();
                steadyRatios.Sort();
                Console.WriteLine($"median mTLS / h2c uplink CPU per MB (edge + gateway): {uplinkRatios[uplinkRatios.Count / 2]:F2}x (goal ≤ 1.30x)");
                Console.WriteLine($"median mTLS / h2c uplink CPU per MB after the first quarter: {steadyRatios[steadyRatios.Count / 2]:F2}x");
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private readonly record struct Run(double ProduceMbPerSecond, double ConsumeMbPerSecond, double CpuMsPerMb);

    // FirstRecordSeconds: from the gateway answering to its first record (the edge's reconnect back-off is in it).
    // Steady*: from the gateway holding a quarter of the backlog to all of it. WireShare: compressed / raw frame bytes;
    // FrameKib: raw KiB per frame sent (the sender's adaptive frame size at work).
    private readonly record struct UplinkRun(double MbPerSecond, double EdgeCpuMsPerMb, double GatewayCpuMsPerMb,
        double FirstRecordSeconds, double SteadyMbPerSecond, double SteadyCpuMsPerMb, double WireShare, double FrameKib)
    {
        public double BothCpuMsPerMb => EdgeCpuMsPerMb + GatewayCpuMsPerMb;
    }

    // A fresh dictionary per client: configs built from one ClientConfig share its properties.
    private static ClientConfig Config(int kafkaPort, string? ca)
    {
        var config = new ClientConfig { BootstrapServers = $"127.0.0.1:{kafkaPort}" };
        if (ca is not null)
        {
            config.SecurityProtocol = SecurityProtocol.Ssl;
            config.SslCaLocation = ca;
        }
        return config;
    }

    // distinct: every record its own random value, which LZ4 cannot shrink (the uplink then carries, and
    // TLS encrypts, every byte); otherwise one random value repeated, which the uplink compresses ~100:1.
    private static void ProduceAll(ClientConfig config, string topic, int count, bool distinct = false)
    {
        var random = new Random(3);
        var value = new byte[1024];
        random.NextBytes(value);
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig(config) { Acks = Acks.Leader, LingerMs = 5, BatchSize = 1_000_000 }).Build();
        for (var i = 0; i < count; i++)
        {
            while (true)
            {
                if (distinct) random.NextBytes(value); // Produce copies the value: one buffer serves every record
                try { producer.Produce(topic, new Message<Null, byte[]> { Value = value }); break; }
                catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(20)); }
            }
        }
        if (producer.Flush(TimeSpan.FromMinutes(5)) > 0) throw new InvalidOperationException($"{count} records not all acknowledged");
    }

    private static async Task<UplinkRun> DrainAsync(string agent, string dataDir, int megabytes, string root, bool tls, bool distinct)
    {
        const string topic = "tls-cost-uplink";
        var count = megabytes * 1024;
        var certs = Path.Combine(root, "certs");
        var ca = tls ? Path.Combine(certs, FleetCertificates.CaCertificateFile) : null;
        string[] Tls(string node) => tls
            ? ["--tls-cert", Path.Combine(certs, node + ".crt"), "--tls-key", Path.Combine(certs, node + ".key"), "--tls-ca", ca!]
            : [];
        var uplink = ChildProcess.FreePort();
        var edgePorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var gatewayPorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var edge = await Servers.StartAgentAsync(agent, Path.Combine(dataDir, "edge"), edgePorts, "edge",
            ["--node-id", "bench-edge", "--partitions", "3", "--fsync", "os", "--parent", $"127.0.0.1:{uplink}", .. Tls("bench-edge")], https: tls).ConfigureAwait(false);
        await using (edge.ConfigureAwait(false))
        {
            ProduceAll(Config(edgePorts.Kafka, ca), topic, count, distinct);
            var gateway = await Servers.StartAgentAsync(agent, Path.Combine(dataDir, "gateway"), gatewayPorts, "gateway",
                ["--node-id", "bench-gateway", "--partitions", "3", "--fsync", "os", "--uplink", $"127.0.0.1:{uplink}", .. Tls("bench-gateway")], https: tls).ConfigureAwait(false);
            await using (gateway.ConfigureAwait(false))
            {
                // From the gateway answering: its start-up is not drain work (the edge has been retrying with backoff meanwhile).
                var edgeCpu0 = CpuMs(edge.Pid);
                var gatewayCpu0 = CpuMs(gateway.Pid);
                var clock = Stopwatch.StartNew();
                using var counter = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(Config(gatewayPorts.Kafka, ca)) { GroupId = "tls-cost-count" })
                    .SetLogHandler((_, _) => { }).Build();
                long held = 0;
                double firstSeconds = double.NaN;
                Steady? steady = null;
                while (held < count)
                {
                    if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException($"the gateway holds {held} of {count} records after 10 minutes");
                    await Task.Delay(50).ConfigureAwait(false);
                    held = 0;
                    for (var i = 0; i < 3; i++)
                    {
                        try { held += counter.QueryWatermarkOffsets(new TopicPartition(topic, i), TimeSpan.FromSeconds(2)).High.Value; }
                        catch (KafkaException) { } // the topic appears with the first frame
                    }
                    if (held > 0 && double.IsNaN(firstSeconds)) firstSeconds = clock.Elapsed.TotalSeconds;
                    // Past the first quarter: connection set-up, the handshake and the JIT's first compilations are behind.
                    if (held >= count / 4 && held < count && steady is null)
                        steady = new Steady(held, clock.Elapsed.TotalSeconds, CpuMs(edge.Pid) + CpuMs(gateway.Pid));
                }
                var seconds = clock.Elapsed.TotalSeconds;
                var edgeCpuEnd = CpuMs(edge.Pid);
                var gatewayCpuEnd = CpuMs(gateway.Pid);
                var edgeCpu = edgeCpuEnd - edgeCpu0;
                var gatewayCpu = gatewayCpuEnd - gatewayCpu0;
                var steadyMb = steady is { } s0 ? (count - s0.Held) / 1024.0 : double.NaN;
                var steadyMbPerSecond = steady is { } s1 ? steadyMb / (seconds - s1.Seconds) : double.NaN;
                var steadyCpuMsPerMb = steady is { } s2 ? (edgeCpuEnd + gatewayCpuEnd - s2.BothCpuMs) / steadyMb : double.NaN;
                var (frames, wireBytes, rawBytes) = await SenderCountsAsync(edgePorts.Http, tls).ConfigureAwait(false);
                return new UplinkRun(megabytes / seconds, edgeCpu / megabytes, gatewayCpu / megabytes, firstSeconds,
                    steadyMbPerSecond, steadyCpuMsPerMb, rawBytes > 0 ? (double)wireBytes / rawBytes : double.NaN, frames > 0 ? rawBytes / 1024.0 / frames : double.NaN);
            }
        }
    }

    private readonly record struct Steady(long Held, double Seconds, double BothCpuMs);

    private static double CpuMs(int pid) => KafkaFetchSessionsScenario.CpuTime(pid).TotalMilliseconds;

    // The edge's uplink frames, what they put on the wire (LZ4-compressed payload: the bytes TLS encrypts) and their raw bytes.
    private static async Task<(long Frames, long Wire, long Raw)> SenderCountsAsync(int httpPort, bool https)
    {
        using var http = https
            ? new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator })
            : new HttpClient();
        var status = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"{(https ? "https" : "http")}://127.0.0.1:{httpPort}/v1/status").ConfigureAwait(false);
        var sender = status.GetProperty("uplinkSender");
        return (sender.GetProperty("framesSent").GetInt64(), sender.GetProperty("bytesSent").GetInt64(), sender.GetProperty("rawBytesSent").GetInt64());
    }

    private static async Task<Run> MeasureAsync(string agent, string dataDir, int megabytes, int warmupMb, string[] flags, string? ca)
    {
        var ports = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var process = await Servers.StartAgentAsync(agent, dataDir, ports, "edge",
            ["--partitions", "6", "--fsync", "os", .. flags], https: ca is not null).ConfigureAwait(false);
        await using (process.ConfigureAwait(false))
        {
            // Warm-up: the same work on another topic, so the measured part runs code the JIT has
            // already optimised (a long-running agent's steady state) rather than its first seconds.
            if (warmupMb > 0) ProduceThenConsume(ports.Kafka, ca, "tls-cost-warmup", warmupMb * 1024);
            var cpu0 = KafkaFetchSessionsScenario.CpuTime(process.Pid);
            var (produceSeconds, consumeSeconds) = ProduceThenConsume(ports.Kafka, ca, "tls-cost", megabytes * 1024);
            var cpu = KafkaFetchSessionsScenario.CpuTime(process.Pid) - cpu0;
            return new Run(megabytes / produceSeconds, megabytes / consumeSeconds, cpu.TotalMilliseconds / (2.0 * megabytes));
        }
    }

    private static (double ProduceSeconds, double ConsumeSeconds) ProduceThenConsume(int kafkaPort, string? ca, string topic, int count)
    {
        var clock = Stopwatch.StartNew();
        ProduceAll(Config(kafkaPort, ca), topic, count);
        var produceSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using (var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig(Config(kafkaPort, ca)) { GroupId = topic, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }).Build())
        {
            consumer.Subscribe(topic);
            var read = 0;
            var deadline = Stopwatch.StartNew();
            while (read < count && deadline.Elapsed < TimeSpan.FromMinutes(5))
                if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not null) read++;
            if (read < count) throw new InvalidOperationException($"consumed {read} of {count} records");
        }
        return (produceSeconds, clock.Elapsed.TotalSeconds);
    }
}
