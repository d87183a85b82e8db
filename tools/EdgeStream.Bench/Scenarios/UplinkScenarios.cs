using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// uplink-forward and backlog-drain: an edge agent accumulates records while its parent (a gateway
/// agent) is down, then the gateway starts and the backlog is forwarded over the uplink (gRPC,
/// LZ4-compressed MessagePack frames, acknowledged once durable at the gateway). Measured: time from
/// the gateway being up until it holds every record, as records/s and MB/s of payload (value bytes),
/// and the edge's resident memory sampled during the drain. Reference in the same run: raw TCP over
/// loopback moving the same number of payload bytes between two sockets of this process.
/// </summary>
public static class UplinkScenarios
{
    private const string Topic = "bench";

    /// <summary>
    /// uplink-forward: 100 B and 1 KB events (<c>--sizes</c>), <c>--records</c> of each. <c>--scrape both</c>
    /// drains each size without and with both nodes' <c>/metrics</c> fetched every second, <c>--rounds</c>
    /// times, in the order off-on, on-off, off-on… so a machine that grows busier or quieter during the
    /// run weighs on both settings alike.
    /// </summary>
    public static async Task<int> ForwardAsync(BenchArgs args)
    {
        var records = args.Int("records", 200_000);
        var sizes = args.String("sizes", "100,1024").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var partitions = args.Int("partitions", 3);
        var scrapeModes = args.String("scrape", "off") switch
        {
            "on" => new[] { true },
            "both" => [false, true],
            _ => [false],
        };
        var rounds = args.Int("rounds", 1);
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Console.WriteLine($"uplink-forward: {records:N0} records per size, sizes {string.Join(", ", sizes)} B, {partitions} partitions, {rounds} round(s); edge backlog drained to a gateway over loopback");
        Console.WriteLine($"  edgestream: {agentDll}, default settings (fsync group)");
        Console.WriteLine();
        var rows = new List<(string Size, Drain Drain, double RawMBps)>();
        var observed = new List<(int Size, bool Scraped, Drain Drain)>();
        try
        {
            foreach (var size in sizes)
            {
                for (var round = 1; round <= rounds; round++)
                {
                    foreach (var scrape in round % 2 == 1 ? scrapeModes : scrapeModes.Reverse())
                    {
                        var drainDir = Path.Combine(root, $"fwd-{size}-{scrape}-{round}");
                        var drain = await RunDrainAsync(agentDll, drainDir, records, size, partitions, scrape);
                        // Removed at once: a later drain must not find the page cache full of (or writing back) this one's
                        // gigabytes, which made later runs of a series slower than the first ones.
                        TryDelete(drainDir);
                        var raw = await RawTcpMBpsAsync((long)records * size);
                        var name = scrapeModes.Length > 1 || scrape ? $"{size} B{(scrape ? ", scraped 1/s" : ", not scraped")}" : $"{size} B";
                        rows.Add((name, drain, raw));
                        observed.Add((size, scrape, drain));
                        Console.WriteLine($"  {name} (round {round}): {drain}; raw loopback TCP {raw:N0} MB/s");
                    }
                }
            }
        }
        finally
        {
            TryDelete(root);
        }
        Console.WriteLine();
        Report.Header("payload", "records/s", "payload MB/s", "raw TCP MB/s", "vs raw TCP", "edge peak RSS MB", "edge peak RssAnon MB", "CPU µs/record (edge + gateway)");
        foreach (var (size, d, raw) in rows)
            Report.Row(size, d.RecordsPerSec, d.MBps, raw, d.MBps / raw, d.PeakRssMB, d.PeakAnonMB, d.CpuMicrosPerRecord);
        if (scrapeModes.Length > 1)
        {
            Console.WriteLine();
            ScrapeCost.Print(observed.Select(o => ($"{o.Size} B", o.Scraped, o.Drain.RecordsPerSec, o.Drain.CpuMicrosPerRecord)));
            Console.WriteLine();
            Report.Header("scraped drain", "scrapes of each node", "CPU ms per scrape of both", "share of the drain's CPU");
            foreach (var (size, _, d) in observed.Where(o => o.Scraped))
                Report.Row($"{size} B", d.Scrapes, d.ScrapeCpuMs, d.ScrapeShare.ToString("P2", CultureInfo.InvariantCulture));
        }
        return 0;
    }

    /// <summary>backlog-drain: <c>--backlog-mb</c> (default 1024) of <c>--record-bytes</c> records accumulated offline, then drained.</summary>
    public static async Task<int> BacklogAsync(BenchArgs args)
    {
        var backlogMB = args.Int("backlog-mb", 1024);
        var recordBytes = args.Int("record-bytes", 1024);
        var partitions = args.Int("partitions", 3);
        var records = (int)((long)backlogMB * 1024 * 1024 / recordBytes);
        var agentDll = Servers.AgentDll(args);
        // Extra `run` flags for the edge only, e.g. "--profile small --memory-limit 64MiB" (EDGESTREAM_* variables do not reach the agents).
        var edgeArgs = args.String("edge-args", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Console.WriteLine($"backlog-drain: {backlogMB:N0} MB of payload = {records:N0} records x {recordBytes} B over {partitions} partitions, accumulated at the edge while the gateway is down");
        Console.WriteLine();
        Drain drain;
        try
        {
            drain = await RunDrainAsync(agentDll, Path.Combine(root, "backlog"), records, recordBytes, partitions, scrape: false, edgeArgs);
        }
        finally
        {
            TryDelete(root);
        }
        var raw = await RawTcpMBpsAsync((long)records * recordBytes);
        Console.WriteLine();
        Report.Header("backlog", "drain s", "records/s", "payload MB/s", "raw TCP MB/s", "vs raw TCP", "edge RSS MB before", "edge peak RSS MB", "edge peak RssAnon MB");
        Report.Row($"{backlogMB:N0} MB", drain.Seconds, drain.RecordsPerSec, drain.MBps, raw, drain.MBps / raw, drain.RssBeforeMB, drain.PeakRssMB, drain.PeakAnonMB);
        return 0;
    }

    // CpuMicrosPerRecord: the edge's and the gateway's CPU (user + system) from the clock's start to the
    // last record held, per record: the work the drain cost, which neighbours on the machine change less than its rate.
    // ScrapeCpuMs: CPU of one scrape of both nodes, measured on them once the drain is over (see ScrapeCpuMsAsync).
    private readonly record struct Drain(double Seconds, double RecordsPerSec, double MBps, double RssBeforeMB, double PeakRssMB, double PeakAnonMB, double CpuMicrosPerRecord, int Scrapes, double ScrapeCpuMs, long Drained)
    {
        /// <summary>The share of the drain's CPU its scrapes took: what a scrape costs, times the scrapes made.</summary>
        public double ScrapeShare => Scrapes * ScrapeCpuMs * 1e3 / (CpuMicrosPerRecord * Drained);

        public override string ToString() => FormattableString.Invariant(
            $"drained {Drained:N0} records in {Seconds:N2} s: {RecordsPerSec:N0} records/s, {MBps:N1} MB/s payload, {CpuMicrosPerRecord:N2} CPU µs/record (edge + gateway), {Scrapes} scrapes of each node{(Scrapes > 0 ? $" at {ScrapeCpuMs:N2} CPU ms per scrape of both" : "")}, edge RSS {RssBeforeMB:N0} MB before, peak {PeakRssMB:N0} MB during (own memory, RssAnon, peak {PeakAnonMB:N0} MB)");
    }

    /// <summary>
    /// CPU milliseconds that one scrape of both nodes costs them, measured on the idle nodes after a drain: the
    /// nodes' CPU over <paramref name="scrapes"/> back-to-back scrapes, less what they use idle in as long a time
    /// (measured just before). A figure for the scrape alone, which no neighbour on the machine inflates much.
    /// </summary>
    private static async Task<double> ScrapeCpuMsAsync(int[] pids, int[] httpPorts, int scrapes)
    {
        double Cpu() => pids.Sum(ProcessCpu.Seconds);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var idleStart = Cpu();
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idlePerSecond = (Cpu() - idleStart) / idleClock.Elapsed.TotalSeconds;
        var start = Cpu();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < scrapes; i++)
            foreach (var port in httpPorts) await http.GetByteArrayAsync($"http://127.0.0.1:{port}/metrics");
        var used = Cpu() - start - idlePerSecond * clock.Elapsed.TotalSeconds;
        return Math.Max(0, used) * 1e3 / scrapes;
    }

    // What a Prometheus server with scrape_interval 1s does to the nodes it watches.
    // Returns the number of scrape rounds made.
    private static async Task<int> ScrapeEverySecondAsync(int[] httpPorts, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var scrapes = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                foreach (var port in httpPorts) await http.GetByteArrayAsync($"http://127.0.0.1:{port}/metrics", ct);
                scrapes++;
            }
        }
        catch (OperationCanceledException) { }
        return scrapes;
    }


    private static async Task<Drain> RunDrainAsync(string agentDll, string dir, int records, int recordBytes, int partitions, bool scrape, string[]? edgeArgs = null)
    {
        var uplink = ChildProcess.FreePort();
        var gatewayPorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var edgePorts = new Servers.AgentPorts(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());
        var p = partitions.ToString(CultureInfo.InvariantCulture);
        var (edge, edgeBootstrap) = await StartAsync(agentDll, Path.Combine(dir, "edge"), "edge", edgePorts,
            ["--node-id", "bench-edge", "--partitions", p, "--parent", $"127.0.0.1:{uplink}", .. edgeArgs ?? []]);
        await using (edge)
        {
            Preload(edgeBootstrap, records, recordBytes, partitions);
            var rssBefore = RssMB(edge.Pid);

            var (gateway, gatewayBootstrap) = await StartAsync(agentDll, Path.Combine(dir, "gateway"), "gateway", gatewayPorts,
                ["--node-id", "bench-gateway", "--partitions", p, "--uplink", $"127.0.0.1:{uplink}"]);
            await using (gateway)
            {
                using var counter = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = gatewayBootstrap, GroupId = "bench-count" })
                    .SetLogHandler((_, _) => { }).Build();
                long Held()
                {
                    long held = 0;
                    for (var i = 0; i < partitions; i++)
                    {
                        try
                        {
                            held += counter.QueryWatermarkOffsets(new TopicPartition(Topic, i), TimeSpan.FromSeconds(2)).High.Value;
                        }
                        catch (KafkaException)
                        {
                            // The topic appears with the first frame.
                        }
                    }
                    return held;
                }
                // Scraped: the nodes are first scraped as a Prometheus server that has watched them for a while
                // would have done (see ScrapeWarmUp); the drain then measures the steady cost.
                if (scrape) await ScrapeWarmUp.RunAsync(agentDll, [edgePorts.Http, gatewayPorts.Http]);
                // The clock starts once the link carries data: the edge began retrying before the gateway existed, so
                // when it reconnects depends on where its backoff stood (up to seconds, as long as a whole 1 GB drain),
                // not on the drain. What the gateway already holds then is not part of the measured drain.
                var linkDeadline = Stopwatch.StartNew();
                while (Held() == 0)
                {
                    if (linkDeadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("the edge did not reach the gateway within 60 s");
                    await Task.Delay(10);
                }
                var start = Stopwatch.GetTimestamp();
                var cpuStart = ProcessCpu.Seconds(edge.Pid) + ProcessCpu.Seconds(gateway.Pid);
                var heldAtStart = Held();
                using var stopScraping = new CancellationTokenSource();
                var scraper = scrape ? ScrapeEverySecondAsync([edgePorts.Http, gatewayPorts.Http], stopScraping.Token) : Task.FromResult(0);
                var peak = rssBefore;
                var peakAnon = RssMB(edge.Pid, "RssAnon:");
                var deadline = Stopwatch.StartNew();
                var limit = TimeSpan.FromSeconds(120 + records / 2_000);
                for (var held = heldAtStart; held < records; held = Held())
                {
                    if (deadline.Elapsed > limit) throw new TimeoutException($"the gateway holds {held:N0} of {records:N0} records after {limit}");
                    await Task.Delay(50);
                    peak = Math.Max(peak, RssMB(edge.Pid));
                    peakAnon = Math.Max(peakAnon, RssMB(edge.Pid, "RssAnon:"));
                }
                var seconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
                var cpu = ProcessCpu.Seconds(edge.Pid) + ProcessCpu.Seconds(gateway.Pid) - cpuStart;
                await stopScraping.CancelAsync();
                var scrapes = await scraper;
                var scrapeCpuMs = scrape ? await ScrapeCpuMsAsync([edge.Pid, gateway.Pid], [edgePorts.Http, gatewayPorts.Http], 100) : 0;
                var drained = records - heldAtStart;
                return new Drain(seconds, drained / seconds, (double)drained * recordBytes / (1024 * 1024) / seconds, rssBefore, peak, peakAnon,
                    cpu * 1e6 / drained, scrapes, scrapeCpuMs, drained);
            }
        }
    }

    private static async Task<(ChildProcess, string)> StartAsync(string agent, string dataDir, string role, Servers.AgentPorts ports, string[] extra) =>
        (await Servers.StartAgentAsync(agent, dataDir, ports, role, extra).ConfigureAwait(false), $"127.0.0.1:{ports.Kafka}");

    /// <summary>Fills the edge as fast as a Confluent producer can (acks=1, linger 5 ms, 1 MB batches).</summary>
    private static void Preload(string bootstrap, int records, int recordBytes, int partitions)
    {
        var elapsed = Produce(bootstrap, Topic, records, recordBytes, partitions, Acks.Leader);
        Console.WriteLine(FormattableString.Invariant($"  preloaded {records:N0} records in {elapsed.TotalSeconds:N1} s"));
    }

    /// <summary>
    /// <paramref name="records"/> random records of <paramref name="recordBytes"/> round-robin over the partitions of
    /// <paramref name="topic"/> as fast as a Confluent producer can (linger 5 ms, 1 MB batches); the time until every one is acknowledged.
    /// </summary>
    internal static TimeSpan Produce(string bootstrap, string topic, int records, int recordBytes, int partitions, Acks acks)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = acks,
            LingerMs = 5,
            BatchSize = 1_000_000,
            QueueBufferingMaxMessages = 100_000,
            QueueBufferingMaxKbytes = 256 * 1024,
            DeliveryReportFields = "none",
        }).SetLogHandler((_, _) => { }).Build();
        var payload = new byte[recordBytes];
        new Random(7).NextBytes(payload);
        var message = new Message<Null, byte[]> { Value = payload };
        long failed = 0;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < records; i++)
        {
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, i % partitions), message, r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                    break;
                }
                catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(5));
                }
            }
        }
        if (producer.Flush(TimeSpan.FromSeconds(300)) > 0 || failed > 0)
            throw new InvalidOperationException($"producing to {bootstrap} failed ({failed:N0} errors)");
        return sw.Elapsed;
    }

    /// <summary>MB/s of moving <paramref name="bytes"/> from one loopback socket to another in this process, 64 KiB writes.</summary>
    internal static async Task<double> RawTcpMBpsAsync(long bytes)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptSocketAsync();
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await sender.ConnectAsync(IPAddress.Loopback, port);
        using var receiver = await accept;
        var start = Stopwatch.GetTimestamp();
        var receive = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            long got = 0;
            while (got < bytes)
            {
                var n = await receiver.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                got += n;
            }
            return got;
        });
        var chunk = new byte[64 * 1024];
        new Random(3).NextBytes(chunk);
        for (long sent = 0; sent < bytes;)
        {
            var n = (int)Math.Min(chunk.Length, bytes - sent);
            sent += await sender.SendAsync(chunk.AsMemory(0, n), SocketFlags.None);
        }
        await receive;
        var seconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        return bytes / (1024.0 * 1024) / seconds;
    }

    /// <summary>
    /// Resident memory of process <paramref name="pid"/> in MB from /proc: <c>VmRSS</c> (everything,
    /// including pages of memory-mapped segment files the log reads through) or <c>RssAnon</c>
    /// (the process's own memory: heaps, stacks, buffers).
    /// </summary>
    internal static double RssMB(int pid, string field = "VmRSS:")
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                var kb = long.Parse(line.AsSpan(field.Length).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }

    internal static void TryDelete(string root)
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
