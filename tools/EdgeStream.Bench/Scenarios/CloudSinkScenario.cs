using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// cloud-sink: records/s from gateways' uplinks through cloud nodes with <c>--sink</c> into an external
/// Kafka cluster (another agent, reached through Kafka only), through one cloud node and through two
/// (each fed by its own gateway, half the records each). Reference in the same run: a Confluent.Kafka
/// producer (acks=all, linger 5 ms, 1 MB batches) writing the same number of records of the same size
/// straight to the same external cluster. The gateways are filled while their cloud node is down; the
/// clock starts when the cloud nodes answer and stops when the external cluster holds every record.
/// A third row isolates the sink from the uplink: a cloud node preloaded directly while its external
/// cluster is down, timed from its first acknowledged produce after that cluster answers.
/// </summary>
public static class CloudSinkScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var records = args.Int("records", 200_000);
        var size = args.Int("size", 100);
        var partitions = args.Int("partitions", 3);
        var agent = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-sink-" + Environment.ProcessId));
        var p = partitions.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"cloud-sink: {records:N0} records of {size} B, {partitions} partitions; gateway -> cloud (--sink) -> external agent, vs a producer straight to the external agent");
        Console.WriteLine($"  edgestream: {agent}, default settings (fsync group)");
        Console.WriteLine();
        try
        {
            var externalPorts = Ports();
            await using var external = await Servers.StartAgentAsync(agent, Path.Combine(root, "external"), externalPorts, "edge", ["--node-id", "external", "--partitions", p]);
            var externalBootstrap = $"127.0.0.1:{externalPorts.Kafka}";

            var direct = UplinkScenarios.Produce(externalBootstrap, "direct", records, size, partitions, Acks.All);
            var directRate = records / direct.TotalSeconds;
            Console.WriteLine(FormattableString.Invariant($"  direct producer: {direct.TotalSeconds:N2} s, {directRate:N0} records/s"));

            var (sinkOnly, sinkOnlyRecords) = await SinkOnlyAsync(agent, root, records, size, partitions);
            var sinkOnlyRate = sinkOnlyRecords / sinkOnly;
            Console.WriteLine(FormattableString.Invariant($"  sink alone (cloud preloaded): {sinkOnlyRecords:N0} records in {sinkOnly:N2} s, {sinkOnlyRate:N0} records/s"));
            var uplinkOnly = await ThroughCloudsAsync(agent, root, "uplink", 1, records, size, partitions, externalBootstrap: null);
            Console.WriteLine(FormattableString.Invariant($"  uplink alone (no sink): {uplinkOnly:N2} s, {records / uplinkOnly:N0} records/s"));
            var one = await ThroughCloudsAsync(agent, root, "one", 1, records, size, partitions, externalBootstrap);
            Console.WriteLine(FormattableString.Invariant($"  one cloud node: {one:N2} s, {records / one:N0} records/s"));
            var two = await ThroughCloudsAsync(agent, root, "two", 2, records, size, partitions, externalBootstrap);
            Console.WriteLine(FormattableString.Invariant($"  two cloud nodes: {two:N2} s, {records / two:N0} records/s"));

            Console.WriteLine();
            Report.Header("path", "seconds", "records/s", "vs direct", "vs one cloud node");
            Report.Row("Confluent producer straight to the external cluster", direct.TotalSeconds, directRate, 1.0, "");
            Report.Row("sink alone: preloaded cloud node -> its own external cluster", sinkOnly, sinkOnlyRate, sinkOnlyRate / directRate, "");
            Report.Row("uplink alone: gateway -> 1 cloud node (no sink), held in the cloud's log", uplinkOnly, records / uplinkOnly, records / uplinkOnly / directRate, "");
            Report.Row("gateway -> 1 cloud node -> external", one, records / one, records / one / directRate, 1.0);
            Report.Row("2 gateways -> 2 cloud nodes -> external", two, records / two, records / two / directRate, one / two);
        }
        finally
        {
            UplinkScenarios.TryDelete(root);
        }
        return 0;
    }

    private static Servers.AgentPorts Ports() => new(ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort());

    /// <summary>
    /// The sink's own rate, without the uplink: a cloud node holds <paramref name="records"/> produced into it
    /// while its external cluster (a fresh agent) is down. Timed from the sink's first acknowledged produce
    /// (its <c>/v1/status</c> polled every 10 ms) until that agent holds them all; the records sent by then are
    /// left out of the count. Timing from the agent answering would add the sink's retry back-off (up to 5 s
    /// after a long outage), which is not its rate.
    /// </summary>
    private static async Task<(double Seconds, long Records)> SinkOnlyAsync(string agent, string root, int records, int size, int partitions)
    {
        var p = partitions.ToString(CultureInfo.InvariantCulture);
        var externalPorts = Ports();
        var cloudPorts = Ports();
        await using var cloud = await Servers.StartAgentAsync(agent, Path.Combine(root, "alone-cloud"), cloudPorts, "cloud",
            ["--node-id", "alone-cloud", "--partitions", p, "--uplink", $"127.0.0.1:{ChildProcess.FreePort()}", "--sink", $"kafka://127.0.0.1:{externalPorts.Kafka}"]);
        UplinkScenarios.Produce($"127.0.0.1:{cloudPorts.Kafka}", "alone", records, size, partitions, Acks.Leader);
        await using var external = await Servers.StartAgentAsync(agent, Path.Combine(root, "alone-external"), externalPorts, "edge", ["--node-id", "alone-external", "--partitions", p]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var limit = Stopwatch.StartNew();
        long sent;
        while ((sent = await SentAsync(http, cloudPorts.Http)) == 0)
        {
            if (limit.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("the sink sent nothing within 60 s of the external cluster answering");
            await Task.Delay(10);
        }
        var start = Stopwatch.GetTimestamp();
        await WaitUntilHeldAsync($"127.0.0.1:{externalPorts.Kafka}", "alone", partitions, records);
        return ((Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency, records - sent);
    }

    private static async Task<long> SentAsync(HttpClient http, int httpPort)
    {
        var status = await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{httpPort}/v1/status");
        return status.GetProperty("sink").GetProperty("recordsSent").GetInt64();
    }

    /// <summary>Polls the external cluster until <paramref name="topic"/> holds <paramref name="expected"/> records (bounded).</summary>
    private static async Task WaitUntilHeldAsync(string bootstrap, string topic, int partitions, int expected)
    {
        using var counter = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-count" })
            .SetLogHandler((_, _) => { }).Build();
        var limit = Stopwatch.StartNew();
        while (Held(counter, topic, partitions) < expected)
        {
            if (limit.Elapsed > TimeSpan.FromSeconds(120 + expected / 1_000))
                throw new TimeoutException($"the external cluster holds {Held(counter, topic, partitions):N0} of {expected:N0} records of {topic}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Seconds from the cloud nodes answering until the external cluster holds all <paramref name="records"/>;
    /// without an external cluster, until the (single) cloud node's own log holds them: the uplink's share.
    /// </summary>
    private static async Task<double> ThroughCloudsAsync(string agent, string root, string name, int clouds, int records, int size, int partitions,
        string? externalBootstrap)
    {
        var p = partitions.ToString(CultureInfo.InvariantCulture);
        var topic = "bench-" + name;
        var uplinks = Enumerable.Range(0, clouds).Select(_ => ChildProcess.FreePort()).ToArray();
        var gateways = new List<ChildProcess>();
        var cloudProcesses = new List<ChildProcess>();
        try
        {
            // Each gateway holds its share while its cloud node is down.
            for (var i = 0; i < clouds; i++)
            {
                var ports = Ports();
                gateways.Add(await Servers.StartAgentAsync(agent, Path.Combine(root, $"{name}-gw{i}"), ports, "gateway",
                    ["--node-id", $"{name}-gw{i}", "--partitions", p, "--uplink", $"127.0.0.1:{ChildProcess.FreePort()}", "--parent", $"127.0.0.1:{uplinks[i]}"]));
                UplinkScenarios.Produce($"127.0.0.1:{ports.Kafka}", topic, records / clouds, size, partitions, Acks.Leader);
            }
            var starting = new List<Task<ChildProcess>>();
            var cloudPorts = Enumerable.Range(0, clouds).Select(_ => Ports()).ToArray();
            for (var i = 0; i < clouds; i++)
            {
                string[] sink = externalBootstrap is null ? [] : ["--sink", $"kafka://{externalBootstrap}"];
                starting.Add(Servers.StartAgentAsync(agent, Path.Combine(root, $"{name}-cloud{i}"), cloudPorts[i], "cloud",
                    ["--node-id", $"{name}-cloud{i}", "--partitions", p, "--uplink", $"127.0.0.1:{uplinks[i]}", .. sink]));
            }
            cloudProcesses.AddRange(await Task.WhenAll(starting));
            var start = Stopwatch.GetTimestamp(); // process start-up is not forwarding time

            await WaitUntilHeldAsync(externalBootstrap ?? $"127.0.0.1:{cloudPorts[0].Kafka}", topic, partitions, records / clouds * clouds);
            return (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        }
        finally
        {
            foreach (var c in cloudProcesses) await c.DisposeAsync();
            foreach (var g in gateways) await g.DisposeAsync();
        }
    }

    private static long Held(IConsumer<Ignore, Ignore> counter, string topic, int partitions)
    {
        long held = 0;
        for (var i = 0; i < partitions; i++)
        {
            try { held += counter.QueryWatermarkOffsets(new TopicPartition(topic, i), TimeSpan.FromSeconds(2)).High.Value; }
            catch (KafkaException) { } // the topic appears with the sink's first write
        }
        return held;
    }
}
