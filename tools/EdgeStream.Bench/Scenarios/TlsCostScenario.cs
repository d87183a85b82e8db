using System.Diagnostics;
using Confluent.Kafka;
using EdgeStream.Security.Certificates;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// tls-cost: what TLS costs the agent. The same agent build runs twice per round, in clear text and
/// with <c>--tls-cert/--tls-key/--tls-ca</c> (a fleet CA and node certificate made for the run);
/// a Confluent.Kafka producer (acks=1, linger 5 ms, SSL when the agent has TLS) sends
/// <c>--mb</c> of 1 KB records, then a consumer reads them all back. Reported per run: produce and
/// consume MB/s and the agent's CPU time per MB moved (utime + stime from /proc), and the TLS/clear
/// ratio of CPU per MB. Rounds alternate so machine noise falls on both.
/// </summary>
public static class TlsCostScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var megabytes = args.Int("mb", 128);
        var rounds = args.Int("rounds", 3);
        var agent = Servers.AgentDll(args);
        var root = Directory.CreateTempSubdirectory("edgestream-bench-tls-").FullName;
        try
        {
            FleetCertificates.InitAuthority(Path.Combine(root, "ca"), "bench CA", force: false);
            FleetCertificates.IssueNode(Path.Combine(root, "ca"), "bench-node", Path.Combine(root, "certs"), ["127.0.0.1"], 30, force: false);
            var ca = Path.Combine(root, "certs", FleetCertificates.CaCertificateFile);
            string[] tlsFlags = ["--tls-cert", Path.Combine(root, "certs", "bench-node.crt"), "--tls-key", Path.Combine(root, "certs", "bench-node.key"), "--tls-ca", ca];
            Console.WriteLine($"tls-cost: {megabytes} MB of 1 KB records produced then consumed, clear text and TLS alternating, {rounds} rounds; agent {agent}");
            Report.Header("round", "mode", "produce MB/s", "consume MB/s", "agent CPU ms/MB", "TLS / clear CPU");
            var ratios = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var clear = await MeasureAsync(agent, Path.Combine(root, $"clear-{round}"), megabytes, [], null).ConfigureAwait(false);
                var tls = await MeasureAsync(agent, Path.Combine(root, $"tls-{round}"), megabytes, tlsFlags, ca).ConfigureAwait(false);
                var ratio = tls.CpuMsPerMb / clear.CpuMsPerMb;
                ratios.Add(ratio);
                Report.Row(round, "clear", clear.ProduceMbPerSecond, clear.ConsumeMbPerSecond, clear.CpuMsPerMb, "");
                Report.Row(round, "TLS", tls.ProduceMbPerSecond, tls.ConsumeMbPerSecond, tls.CpuMsPerMb, $"{ratio:F2}x");
            }
            ratios.Sort();
            Console.WriteLine($"median TLS / clear agent CPU per MB: {ratios[ratios.Count / 2]:F2}x (goal ≤ 1.30x)");
            return 0;
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private readonly record struct Run(double ProduceMbPerSecond, double ConsumeMbPerSecond, double CpuMsPerMb);

    private static async Task<Run> MeasureAsync(string agent, string dataDir, int megabytes, string[] flags, string? ca)
    {
        var ports = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var process = await Servers.StartAgentAsync(agent, dataDir, ports, "edge",
            ["--partitions", "6", "--fsync", "os", .. flags], https: ca is not null).ConfigureAwait(false);
        await using (process.ConfigureAwait(false))
        {
            // A fresh dictionary per client: configs built from one ClientConfig share its properties.
            ClientConfig Config()
            {
                var config = new ClientConfig { BootstrapServers = $"127.0.0.1:{ports.Kafka}" };
                if (ca is not null)
                {
                    config.SecurityProtocol = SecurityProtocol.Ssl;
                    config.SslCaLocation = ca;
                }
                return config;
            }
            const string topic = "tls-cost";
            var count = megabytes * 1024;
            var value = new byte[1024];
            new Random(3).NextBytes(value);
            var cpu0 = KafkaFetchSessionsScenario.CpuTime(process.Pid);
            var clock = Stopwatch.StartNew();
            using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig(Config()) { Acks = Acks.Leader, LingerMs = 5, BatchSize = 1_000_000 }).Build())
            {
                for (var i = 0; i < count; i++)
                {
                    while (true)
                    {
                        try { producer.Produce(topic, new Message<Null, byte[]> { Value = value }); break; }
                        catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(20)); }
                    }
                }
                producer.Flush(TimeSpan.FromMinutes(5));
            }
            var produceSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig(Config()) { GroupId = "tls-cost", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }).Build())
            {
                consumer.Subscribe(topic);
                var read = 0;
                var deadline = Stopwatch.StartNew();
                while (read < count && deadline.Elapsed < TimeSpan.FromMinutes(5))
                    if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not null) read++;
                if (read < count) throw new InvalidOperationException($"consumed {read} of {count} records");
            }
            var consumeSeconds = clock.Elapsed.TotalSeconds;
            var cpu = KafkaFetchSessionsScenario.CpuTime(process.Pid) - cpu0;
            return new Run(megabytes / produceSeconds, megabytes / consumeSeconds, cpu.TotalMilliseconds / (2.0 * megabytes));
        }
    }
}
