using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// metrics: the cost of being observed. (1) kafka-produce against a fresh agent with nothing reading
/// <c>/metrics</c>, and against another fresh agent scraped every second (what Prometheus does),
/// alternated for <c>--rounds</c> rounds in the same run (off-on, on-off, … so a drift of the shared machine
/// weighs on both), each run's agent CPU per record read from /proc next to its rate; (2) how long <c>GET /metrics</c> takes on an
/// agent holding one topic of <c>--metric-partitions</c> (1 000) partitions, each with a record.
/// </summary>
public static class MetricsScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var records = args.Int("records", 300_000);
        var recordBytes = args.Int("record-bytes", 1024);
        var partitions = args.Int("partitions", 6);
        var rounds = args.Int("rounds", 2);
        var metricPartitions = args.Int("metric-partitions", 1000);
        var renders = args.Int("renders", 30);
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-metrics-" + Environment.ProcessId));
        Directory.CreateDirectory(root);
        var payload = new byte[recordBytes];
        new Random(1).NextBytes(payload);
        Console.WriteLine($"metrics: kafka-produce {records:N0} x {recordBytes} B over {partitions} partitions, fsync=group, {rounds} round(s) of (no scrape, scrape every 1 s); then /metrics with {metricPartitions:N0} partitions, {renders} renders");
        Console.WriteLine();

        try
        {
            var runs = new List<(string, bool, double, double)>();
            var scrapes = 0;
            for (var round = 0; round < rounds; round++)
            {
                foreach (var observe in round % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var dir = Path.Combine(root, $"r{round}-{(observe ? "scraped" : "plain")}");
                    var (agent, ports) = await Servers.StartAgentWithPortsAsync(agentDll, dir, partitions, "group");
                    await using (agent)
                    {
                        if (observe) await ScrapeWarmUp.RunAsync(agentDll, [ports.Http]);
                        using var stop = new CancellationTokenSource();
                        var scraper = observe ? ScrapeEverySecondAsync(ports.Http, stop.Token) : Task.FromResult(0);
                        var warmup = Math.Min(10_000, records / 20);
                        var requestsBefore = await KafkaRequestCounts.ReadAsync(ports.Http);
                        var cpuBefore = ProcessCpu.Seconds(agent.Pid);
                        var result = KafkaProduceScenario.RunKafka($"127.0.0.1:{ports.Kafka}", payload, records, warmup, partitions, 10_000, 1_000_000, 0, 5);
                        // The agent took the warm-up records and served the read-back as well: its CPU over every record it handled.
                        var cpuPerRecord = (ProcessCpu.Seconds(agent.Pid) - cpuBefore) * 1e6 / (records + warmup);
                        await stop.CancelAsync();
                        scrapes += await scraper;
                        runs.Add(("kafka-produce", observe, result.MsgPerSec, cpuPerRecord));
                        var requests = KafkaRequestCounts.PerThousand(requestsBefore, await KafkaRequestCounts.ReadAsync(ports.Http), records + warmup);
                        Console.WriteLine($"  round {round + 1}, {(observe ? "scraped every 1 s" : "not scraped")}: {result}; agent CPU {cpuPerRecord:N2} µs/record; {requests}");
                    }
                    // Each run writes its records to a directory of its own: removed now, so no run finds the page cache
                    // holding (or writing back) the gigabytes of the runs before it.
                    try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
                }
            }
            Console.WriteLine();
            Console.WriteLine($"{scrapes} scrapes in all");
            ScrapeCost.Print(runs);
            Console.WriteLine();

            var (node, nodePorts) = await Servers.StartAgentWithPortsAsync(agentDll, Path.Combine(root, "render"), 1, "group");
            await using (node)
            {
                await CreateAndFillAsync($"127.0.0.1:{nodePorts.Kafka}", metricPartitions);
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                var url = $"http://127.0.0.1:{nodePorts.Http}/metrics";
                var size = (await http.GetByteArrayAsync(url)).Length; // warm-up
                var times = new List<double>(renders);
                for (var i = 0; i < renders; i++)
                {
                    var sw = Stopwatch.StartNew();
                    size = (await http.GetByteArrayAsync(url)).Length;
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Report.Header("/metrics", "partitions", "bytes", "p50 ms", "max ms");
                Report.Row("render + transfer", metricPartitions.ToString("N0"), size.ToString("N0"), times[times.Count / 2].ToString("0.0"), times[^1].ToString("0.0"));
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
        return 0;
    }

    private static async Task<int> ScrapeEverySecondAsync(int httpPort, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await http.GetByteArrayAsync($"http://127.0.0.1:{httpPort}/metrics", ct);
                n++;
            }
        }
        catch (OperationCanceledException) { }
        return n;
    }

    private static async Task CreateAndFillAsync(string bootstrap, int partitions)
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4 }).Build())
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "wide", NumPartitions = partitions, ReplicationFactor = 1 }]);
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5, BrokerAddressFamily = BrokerAddressFamily.V4 })
            .SetLogHandler((_, _) => { }).Build();
        for (var p = 0; p < partitions; p++)
            producer.Produce(new TopicPartition("wide", new Partition(p)), new Message<Null, byte[]> { Value = new byte[100] });
        producer.Flush(TimeSpan.FromSeconds(120));
    }
}
