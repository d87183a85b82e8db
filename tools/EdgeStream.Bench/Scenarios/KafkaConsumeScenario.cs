using System.Diagnostics;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// kafka-consume: the broker's side of reading a backlog. A topic is filled with <c>--mb</c> of 1 KB
/// records, then a raw Fetch loop (the protocol codec, 16 MiB responses, 1 MiB per partition) reads
/// it all from the start. Reported: fetched MB/s and the agent's CPU time per fetched MB. With
/// <c>--peer-agent PATH</c> a second agent build reads the same backlog in the same run, alternating
/// three times, so two builds compare on equal terms (e.g. before and after a change to the fetch path).
/// </summary>
public static class KafkaConsumeScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var megabytes = args.Int("mb", 256);
        var partitions = args.Int("partitions", 8);
        var rounds = args.Int("rounds", 3);
        var agents = new List<(string Label, string Path)> { ("agent", Servers.AgentDll(args)) };
        var peer = args.String("peer-agent", "");
        if (peer.Length > 0) agents.Insert(0, ("peer-agent", Path.GetFullPath(peer)));
        Console.WriteLine($"kafka-consume: {megabytes} MB of 1 KB records in {partitions} partitions, read from the start; {rounds} rounds");
        foreach (var (label, path) in agents) Console.WriteLine($"{label}: {path}");
        Report.Header("build", "round", "fetched MB/s", "agent CPU ms/MB");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (label, path) in agents)
            {
                var (mbPerSecond, cpuPerMb) = await MeasureAsync(path, megabytes, partitions).ConfigureAwait(false);
                Report.Row(label, round, mbPerSecond, cpuPerMb);
            }
        }
        return 0;
    }

    private static async Task<(double MbPerSecond, double CpuMsPerMb)> MeasureAsync(string agent, int megabytes, int partitions)
    {
        var dir = Directory.CreateTempSubdirectory("edgestream-bench-consume-").FullName;
        try
        {
            var (process, bootstrap) = await Servers.StartAgentAsync(agent, Path.Combine(dir, "agent"), partitions, "os").ConfigureAwait(false);
            await using (process.ConfigureAwait(false))
            {
                const string topic = "consume";
                using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 20, BatchSize = 1 << 20 }).Build())
                {
                    var value = new byte[1024];
                    for (var i = 0; i < megabytes * 1024; i++)
                    {
                        while (true)
                        {
                            try { producer.Produce(new TopicPartition(topic, i % partitions), new Message<byte[]?, byte[]> { Value = value }); break; }
                            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(50)); }
                        }
                    }
                    producer.Flush(TimeSpan.FromMinutes(2));
                }
                var port = int.Parse(bootstrap[(bootstrap.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
                var offsets = new long[partitions];
                var target = (long)megabytes * 1024 * 1024;
                long fetched = 0;
                var cpuBefore = KafkaFetchSessionsScenario.CpuTime(process.Pid);
                var clock = Stopwatch.StartNew();
                for (var i = 0; i < 100_000 && fetched < target; i++)
                {
                    var request = new FetchRequest { MaxWaitMs = 500, MinBytes = 1, MaxBytes = 16 << 20, SessionEpoch = -1 };
                    request.Topics.Add(KafkaFetchSessionsScenario.FullTopic(topic, offsets));
                    var result = await KafkaFetchSessionsScenario.FetchAsync(socket, request, i + 1, offsets).ConfigureAwait(false);
                    fetched += result.Bytes;
                }
                var seconds = clock.Elapsed.TotalSeconds;
                var cpu = KafkaFetchSessionsScenario.CpuTime(process.Pid) - cpuBefore;
                var mb = fetched / 1048576.0;
                return (mb / seconds, cpu.TotalMilliseconds / mb);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
