using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Confluent.Kafka;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// kafka-fetch-sessions: one consumer of a many-partition topic (1 000 by default) that is caught
/// up while a producer trickles records into it, fetching the way a client without sessions does
/// (every request names every partition, every response answers for every partition) and then
/// with an incremental fetch session (KIP-227), against the same agent in the same run. Reported:
/// fetch requests/s, bytes per request and per response, and the agent's CPU time per fetched MB
/// and per request (from /proc, less what the agent spends on the producer alone, measured first).
/// </summary>
public static class KafkaFetchSessionsScenario
{
    private const short FetchVersion = 12;

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var partitions = args.Int("partitions", 1000);
        var seconds = args.Int("seconds", 15);
        var rate = args.Int("rate", 2000);
        var size = args.Int("size", 1024);
        var agent = Servers.AgentDll(args);
        var dir = Directory.CreateTempSubdirectory("edgestream-bench-fetch-").FullName;
        try
        {
            var (process, bootstrap) = await Servers.StartAgentAsync(agent, Path.Combine(dir, "agent"), partitions, "os").ConfigureAwait(false);
            await using (process.ConfigureAwait(false))
            {
                const string topic = "fetch-sessions";
                using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build())
                    await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }]).ConfigureAwait(false);
                var port = int.Parse(bootstrap[(bootstrap.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                Console.WriteLine($"kafka-fetch-sessions: {partitions} partitions, producer {rate} records/s of {size} B, {seconds} s per mode, agent {Path.GetFileName(agent)}");
                // The agent's CPU while it only takes the producer's records: subtracted from each
                // mode's, so what remains is the cost of serving the consumer.
                var baseline = await ProducerOnlyCpuPerSecondAsync(bootstrap, topic, partitions, rate, size, TimeSpan.FromSeconds(seconds), process.Pid).ConfigureAwait(false);
                Console.WriteLine($"agent CPU with the producer alone: {baseline:F0} ms/s");
                Report.Header("mode", "fetches/s", "request B", "response B", "fetched MB/s", "agent CPU ms/MB", "agent CPU µs/fetch");
                foreach (var sessions in new[] { false, true })
                {
                    var result = await MeasureAsync(bootstrap, port, topic, partitions, sessions, rate, size, TimeSpan.FromSeconds(seconds), process.Pid, baseline).ConfigureAwait(false);
                    Report.Row(sessions ? "incremental session" : "full (no session)", result.FetchesPerSecond, result.RequestBytes, result.ResponseBytes,
                        result.MegabytesPerSecond, result.CpuMsPerMegabyte, result.CpuMicrosPerFetch);
                }
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private readonly record struct Result(double FetchesPerSecond, double RequestBytes, double ResponseBytes, double MegabytesPerSecond, double CpuMsPerMegabyte, double CpuMicrosPerFetch);

    private static async Task<double> ProducerOnlyCpuPerSecondAsync(string bootstrap, string topic, int partitions, int rate, int size, TimeSpan duration, int agentPid)
    {
        using var stop = new CancellationTokenSource(duration);
        var cpuBefore = CpuTime(agentPid);
        var clock = Stopwatch.StartNew();
        await Task.Run(() => Produce(bootstrap, topic, partitions, rate, size, stop.Token)).ConfigureAwait(false);
        return (CpuTime(agentPid) - cpuBefore).TotalMilliseconds / clock.Elapsed.TotalSeconds;
    }

    private static async Task<Result> MeasureAsync(string bootstrap, int port, string topic, int partitions, bool sessions, int rate, int size, TimeSpan duration, int agentPid,
        double baselineCpuMsPerSecond)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", port).ConfigureAwait(false);
        var offsets = new long[partitions];
        var correlation = 0;
        // Catch up first (everything produced so far), so both modes start from the log end.
        var start = new FetchRequest { MaxWaitMs = 0, MinBytes = 0, MaxBytes = 64 << 20, SessionEpoch = -1 };
        start.Topics.Add(FullTopic(topic, offsets));
        for (var i = 0; i < 100 && await FetchAsync(socket, start, ++correlation, offsets).ConfigureAwait(false) is { Bytes: > 0 }; i++)
            start.Topics[0] = FullTopic(topic, offsets);

        using var stop = new CancellationTokenSource(duration + TimeSpan.FromSeconds(1));
        var producer = Task.Run(() => Produce(bootstrap, topic, partitions, rate, size, stop.Token));
        var sessionId = 0;
        var epoch = sessions ? 0 : -1;
        long fetches = 0, requestBytes = 0, responseBytes = 0, fetched = 0;
        var cpuBefore = CpuTime(agentPid);
        var clock = Stopwatch.StartNew();
        var moved = new List<int>();
        while (clock.Elapsed < duration)
        {
            var request = new FetchRequest { MaxWaitMs = 500, MinBytes = 1, MaxBytes = 16 << 20, SessionId = sessionId, SessionEpoch = epoch };
            if (!sessions || epoch == 0) request.Topics.Add(FullTopic(topic, offsets));
            else if (moved.Count > 0)
            {
                // Incremental: only the partitions whose position moved since the last request.
                var changed = new FetchRequest.FetchTopic { Topic = topic };
                foreach (var p in moved) changed.Partitions.Add(new FetchRequest.FetchPartition { Partition = p, FetchOffset = offsets[p], PartitionMaxBytes = 1 << 20 });
                request.Topics.Add(changed);
            }
            var result = await FetchAsync(socket, request, ++correlation, offsets).ConfigureAwait(false);
            if (result.Error != 0) throw new InvalidOperationException($"fetch failed with error {result.Error}");
            fetches++;
            requestBytes += result.RequestBytes;
            responseBytes += result.ResponseBytes;
            fetched += result.Bytes;
            moved = result.Moved;
            if (sessions)
            {
                sessionId = result.SessionId;
                epoch = sessionId == 0 ? 0 : epoch + 1;
            }
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        var cpu = CpuTime(agentPid) - cpuBefore - TimeSpan.FromMilliseconds(baselineCpuMsPerSecond * elapsed);
        if (cpu < TimeSpan.Zero) cpu = TimeSpan.Zero;
        await stop.CancelAsync().ConfigureAwait(false);
        await producer.ConfigureAwait(false);
        var megabytes = fetched / 1048576.0;
        return new Result(fetches / elapsed, requestBytes / (double)fetches, responseBytes / (double)fetches, megabytes / elapsed,
            megabytes > 0 ? cpu.TotalMilliseconds / megabytes : 0, cpu.TotalMilliseconds * 1000 / fetches);
    }

    internal static FetchRequest.FetchTopic FullTopic(string topic, long[] offsets)
    {
        var fetchTopic = new FetchRequest.FetchTopic { Topic = topic };
        for (var p = 0; p < offsets.Length; p++)
            fetchTopic.Partitions.Add(new FetchRequest.FetchPartition { Partition = p, FetchOffset = offsets[p], PartitionMaxBytes = 1 << 20 });
        return fetchTopic;
    }

    internal readonly record struct FetchResult(short Error, int SessionId, long Bytes, int RequestBytes, int ResponseBytes, List<int> Moved);

    /// <summary>Sends one fetch, reads its response, and advances <paramref name="offsets"/> past every record batch received.</summary>
    internal static async Task<FetchResult> FetchAsync(Socket socket, FetchRequest request, int correlation, long[] offsets)
    {
        var output = new ArrayBufferWriter<byte>();
        KafkaFraming.WriteRequest(output, new RequestHeader { ApiKey = (short)ApiKey.Fetch, ApiVersion = FetchVersion, CorrelationId = correlation, ClientId = "bench" }, request);
        await socket.SendAsync(output.WrittenMemory, SocketFlags.None).ConfigureAwait(false);
        var prefix = new byte[4];
        await ReadExactlyAsync(socket, prefix).ConfigureAwait(false);
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        await ReadExactlyAsync(socket, frame).ConfigureAwait(false);
        var reader = new KafkaReader(frame.AsMemory());
        ResponseHeader.Read(ref reader, KafkaHeaders.ResponseHeaderVersion((short)ApiKey.Fetch, FetchVersion));
        var response = new FetchResponse();
        response.Read(ref reader, FetchVersion);
        long bytes = 0;
        var moved = new List<int>();
        foreach (var topic in response.Responses)
        {
            foreach (var partition in topic.Partitions)
            {
                if (partition.Records is not { Length: > 0 } records) continue;
                bytes += records.Length;
                var span = records.Span;
                var last = -1L;
                for (var position = 0; position + 12 <= span.Length;)
                {
                    // Batch: base offset (8), batch length (4), ... last offset delta at 23.
                    var baseOffset = BinaryPrimitives.ReadInt64BigEndian(span[position..]);
                    var length = BinaryPrimitives.ReadInt32BigEndian(span[(position + 8)..]);
                    if (position + 12 + length > span.Length) break;
                    last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(span[(position + 23)..]);
                    position += 12 + length;
                }
                if (last >= 0 && last + 1 > offsets[partition.PartitionIndex])
                {
                    offsets[partition.PartitionIndex] = last + 1;
                    moved.Add(partition.PartitionIndex);
                }
            }
        }
        return new FetchResult(response.ErrorCode, response.SessionId, bytes, output.WrittenCount, frame.Length + 4, moved);
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).ConfigureAwait(false);
            if (n == 0) throw new IOException("the agent closed the connection");
            read += n;
        }
    }

    /// <summary>Records at <paramref name="rate"/>/s round-robin over the partitions, paced every 10 ms.</summary>
    private static void Produce(string bootstrap, string topic, int partitions, int rate, int size, CancellationToken stop)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var value = new byte[size];
        var clock = Stopwatch.StartNew();
        long sent = 0;
        for (var tick = 0; tick < 1_000_000 && !stop.IsCancellationRequested; tick++)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate);
            for (; sent < due; sent++) producer.Produce(new TopicPartition(topic, (int)(sent % partitions)), new Message<byte[]?, byte[]> { Value = value });
            Thread.Sleep(10);
        }
        producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>utime + stime of <paramref name="pid"/> (fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms).</summary>
    internal static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }
}
