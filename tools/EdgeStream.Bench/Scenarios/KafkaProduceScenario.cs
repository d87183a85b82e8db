using System.Diagnostics;
using System.Threading.Channels;
using Confluent.Kafka;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using ConsumerConfig = Confluent.Kafka.ConsumerConfig;
using NATS.Net;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// kafka-produce: a Confluent.Kafka producer (acks=1, linger 5 ms, no compression) sends
/// <c>--records</c> payloads of <c>--record-bytes</c> round-robin over <c>--partitions</c> partitions
/// of a fresh agent as fast as it can, while a consumer assigned to every partition reads them back;
/// each payload carries its send time, so the consumer measures producer-to-consumer latency. The
/// peer, in the same run: the same payloads published to NATS JetStream (file storage, one subject
/// per partition) with NATS.Net's pipelined publish, read back by an ordered consumer. Both sides
/// cap the records sent but not yet acknowledged at <c>--window</c>, so latencies compare too.
/// With <c>--rate N --seconds S</c> both sides send at a fixed N records/s for S seconds instead of
/// as fast as they can (a latency test, not a throughput one: use <c>--linger 0</c>).
/// </summary>
public static class KafkaProduceScenario
{
    private const string Topic = "bench";
    private const string Stream = "BENCH";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var records = args.Int("records", 1_000_000);
        var recordBytes = args.Int("record-bytes", 1024);
        var partitions = args.Int("partitions", 6);
        var window = args.Int("window", 10_000);
        var batchBytes = args.Int("batch-bytes", 1_000_000);
        var warmup = args.Int("warmup", Math.Min(10_000, Math.Max(partitions, records / 20)));
        var policies = args.String("fsync", "group").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var skipNats = args.String("nats", "on") == "off";
        var rate = args.Int("rate", 0);
        var linger = args.Int("linger", 5);
        if (rate > 0) records = checked(rate * args.Int("seconds", 30));
        if (records <= 0 || recordBytes < 8 || partitions <= 0 || window <= 0)
            throw new ArgumentException("--records, --partitions and --window must be positive and --record-bytes at least 8");
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-" + Environment.ProcessId));
        Directory.CreateDirectory(root);

        var payload = new byte[recordBytes];
        new Random(1).NextBytes(payload);
        Console.WriteLine($"kafka-produce: {records:N0} records x {recordBytes} B over {partitions} partitions/subjects, {(rate > 0 ? $"at a fixed {rate:N0} records/s" : "as fast as possible")}, at most {window:N0} unacknowledged per side, {warmup:N0} warm-up records first");
        Console.WriteLine($"  edgestream: {agentDll}, fsync {string.Join(", ", policies)}; Confluent.Kafka acks=1 linger.ms={linger} batch.size={batchBytes} compression=none");
        Console.WriteLine($"  nats: nats-server -js, file storage, subjects {Stream.ToLowerInvariant()}.0..{partitions - 1}; NATS.Net PublishConcurrentAsync, ordered consumer");
        Console.WriteLine();

        var results = new List<(string Name, Result Result)>();
        try
        {
            foreach (var policy in policies)
            {
                var dir = Path.Combine(root, "edgestream-" + policy);
                var (agent, bootstrap) = await Servers.StartAgentAsync(agentDll, dir, partitions, policy);
                await using (agent)
                    results.Add(($"edgestream (Kafka, fsync={policy})", RunKafka(bootstrap, payload, records, warmup, partitions, window, batchBytes, rate, linger)));
                Console.WriteLine($"  {results[^1].Name}: {results[^1].Result}");
            }
            if (!skipNats)
            {
                var (nats, url) = await Servers.StartNatsAsync(args, Path.Combine(root, "nats"));
                await using (nats)
                    results.Add(("NATS JetStream (file)", await RunNatsAsync(url, payload, records, warmup, partitions, window, rate)));
                Console.WriteLine($"  {results[^1].Name}: {results[^1].Result}");
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        Console.WriteLine();
        var peer = skipNats ? (Result?)null : results[^1].Result;
        Report.Header("run", "msg/s", "MB/s", "e2e p50 ms", "e2e p99 ms", "e2e p99.9 ms", "e2e max ms", "msg/s vs NATS", "p99 vs NATS");
        foreach (var (name, r) in results)
        {
            Report.Row(name, r.MsgPerSec, r.MBps, r.P50, r.P99, r.P999, r.Max,
                peer is { } p ? r.MsgPerSec / p.MsgPerSec : double.NaN,
                peer is { } q ? r.P99 / q.P99 : double.NaN);
        }
        return 0;
    }

    internal readonly record struct Result(double MsgPerSec, double MBps, double P50, double P99, double P999, double Max, double ConsumerSeconds)
    {
        public override string ToString() =>
            FormattableString.Invariant($"{MsgPerSec:N0} msg/s, {MBps:N1} MB/s, e2e p50 {P50:N1} ms, p99 {P99:N1} ms, p99.9 {P999:N1} ms, max {Max:N1} ms, consumer done after {ConsumerSeconds:N2} s");
    }

    private static Result Summarise(int records, int recordBytes, long startTicks, long lastAckTicks, long consumerDoneTicks, LatencyRecorder latency)
    {
        var seconds = (lastAckTicks - startTicks) / (double)Stopwatch.Frequency;
        var (p50, p99, max) = latency.Percentiles();
        return new Result(records / seconds, (double)records * recordBytes / (1024 * 1024) / seconds, p50, p99, latency.QuantileMs(0.999), max,
            (consumerDoneTicks - startTicks) / (double)Stopwatch.Frequency);
    }

    private static TimeSpan Deadline(int records) => TimeSpan.FromSeconds(120 + records / 2_000);

    // ---- EdgeStream: Confluent.Kafka against the agent ----

    internal static Result RunKafka(string bootstrap, byte[] template, int records, int warmup, int partitions, int window, int batchBytes, int rate, int linger)
    {
        var producerConfig = new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.Leader,
            LingerMs = linger,
            BatchSize = batchBytes,
            CompressionType = CompressionType.None,
            EnableIdempotence = false,
            // Counts a message from Produce until its delivery report: the unacknowledged window.
            QueueBufferingMaxMessages = window,
            QueueBufferingMaxKbytes = 4 * 1024 * 1024,
            DeliveryReportFields = "none",
        };
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "edgestream-bench",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            FetchWaitMaxMs = 100,
            FetchMinBytes = 1,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        var targets = new TopicPartition[partitions];
        for (var p = 0; p < partitions; p++) targets[p] = new TopicPartition(Topic, p);
        var payload = (byte[])template.Clone();
        var latency = new LatencyRecorder(records);

        using var producer = new ProducerBuilder<Null, byte[]>(producerConfig).SetLogHandler((_, _) => { }).Build();
        // Warm-up: creates the topic (auto-create on first produce), JITs both ends.
        ProduceAll(producer, targets, payload, warmup, stamp: false, Deadline(warmup), rate: 0);

        using var consumer = new ConsumerBuilder<Ignore, byte[]>(consumerConfig).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(targets.Select(t => new TopicPartitionOffset(t, Offset.Beginning)));
        var warmupSeen = 0;
        long consumerDone = 0;
        using var stop = new CancellationTokenSource(Deadline(records) + Deadline(warmup));
        var consumerThread = new Thread(() =>
        {
            while (!stop.IsCancellationRequested && latency.Count < records)
            {
                var result = consumer.Consume(100);
                if (result?.Message?.Value is { } value && !latency.Record(value)) Interlocked.Increment(ref warmupSeen);
            }
            Volatile.Write(ref consumerDone, Stopwatch.GetTimestamp());
        }) { IsBackground = true, Name = "kafka-consumer" };
        consumerThread.Start();
        WaitFor(() => Volatile.Read(ref warmupSeen) >= warmup, Deadline(warmup), "the Kafka consumer to read the warm-up records");

        var (start, lastAck) = ProduceAll(producer, targets, payload, records, stamp: true, Deadline(records), rate);
        consumerThread.Join();
        if (latency.Count < records) throw new TimeoutException($"the Kafka consumer read {latency.Count:N0} of {records:N0} records in time");
        consumer.Close();
        return Summarise(records, template.Length, start, lastAck, consumerDone, latency);
    }

    private static (long Start, long LastAck) ProduceAll(IProducer<Null, byte[]> producer, TopicPartition[] targets, byte[] payload, int count, bool stamp, TimeSpan timeout, int rate)
    {
        long delivered = 0, failed = 0, lastAck = 0;
        Error? firstError = null;
        using var done = new ManualResetEventSlim();
        void OnDelivery(DeliveryReport<Null, byte[]> report)
        {
            if (report.Error.IsError && Interlocked.Increment(ref failed) == 1) firstError = report.Error;
            if (Interlocked.Increment(ref delivered) == count)
            {
                Volatile.Write(ref lastAck, Stopwatch.GetTimestamp());
                done.Set();
            }
        }
        // librdkafka copies the value inside Produce, so one buffer is restamped for every record.
        var message = new Message<Null, byte[]> { Value = payload };
        if (!stamp) payload.AsSpan(0, 8).Clear();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            if (rate > 0) Pace.Until(start, i, rate);
            if (stamp) LatencyRecorder.Stamp(payload);
            while (true)
            {
                try
                {
                    producer.Produce(targets[i % targets.Length], message, OnDelivery);
                    break;
                }
                catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The window is full: wait for delivery reports (the background poller serves them).
                    Thread.Sleep(1);
                    if (stamp) LatencyRecorder.Stamp(payload);
                }
            }
        }
        if (!done.Wait(timeout)) throw new TimeoutException($"only {Interlocked.Read(ref delivered):N0} of {count:N0} records were acknowledged in time");
        if (failed > 0) throw new InvalidOperationException($"{failed:N0} of {count:N0} records failed; first error: {firstError}");
        return (start, Volatile.Read(ref lastAck));
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(5);
        }
    }

    // ---- Peer: NATS JetStream with file storage ----

    private static async Task<Result> RunNatsAsync(string url, byte[] template, int records, int warmup, int partitions, int window, int rate)
    {
        await using var publisherConnection = new NatsClient(url);
        await using var consumerConnection = new NatsClient(url);
        var js = publisherConnection.CreateJetStreamContext();
        var subjectPrefix = Stream.ToLowerInvariant();
        await js.CreateStreamAsync(new StreamConfig(Stream, [subjectPrefix + ".*"]) { Storage = StreamConfigStorage.File });
        var subjects = new string[partitions];
        for (var p = 0; p < partitions; p++) subjects[p] = $"{subjectPrefix}.{p}";
        var payload = (byte[])template.Clone();
        var latency = new LatencyRecorder(records);

        await PublishAllAsync(js, subjects, payload, warmup, stamp: false, window, rate: 0);

        var consumer = await consumerConnection.CreateJetStreamContext().CreateOrderedConsumerAsync(Stream);
        var warmupSeen = 0;
        long consumerDone = 0;
        using var stop = new CancellationTokenSource(Deadline(records) + Deadline(warmup));
        var consuming = Task.Run(async () =>
        {
            try
            {
                await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 4096 }, cancellationToken: stop.Token))
                {
                    if (msg.Data is { } value && !latency.Record(value)) Interlocked.Increment(ref warmupSeen);
                    if (latency.Count >= records) break;
                }
            }
            catch (OperationCanceledException) { }
            Volatile.Write(ref consumerDone, Stopwatch.GetTimestamp());
        });
        WaitFor(() => Volatile.Read(ref warmupSeen) >= warmup || consuming.IsCompleted, Deadline(warmup), "the NATS consumer to read the warm-up records");

        var (start, lastAck) = await PublishAllAsync(js, subjects, payload, records, stamp: true, window, rate);
        await consuming;
        if (latency.Count < records) throw new TimeoutException($"the NATS consumer read {latency.Count:N0} of {records:N0} records in time");
        return Summarise(records, template.Length, start, lastAck, consumerDone, latency);
    }

    private static async Task<(long Start, long LastAck)> PublishAllAsync(INatsJSContext js, string[] subjects, byte[] payload, int count, bool stamp, int window, int rate)
    {
        // Publishes are pipelined: the message is in the connection's buffer once PublishConcurrentAsync
        // returns, its ack is awaited by a second loop, in order, with at most `window` outstanding.
        var inFlight = Channel.CreateBounded<NatsJSPublishConcurrentFuture>(new BoundedChannelOptions(window) { SingleReader = true, SingleWriter = true });
        long failed = 0;
        string? firstError = null;
        var acks = Task.Run(async () =>
        {
            await foreach (var future in inFlight.Reader.ReadAllAsync())
            {
                try
                {
                    var ack = await future.GetResponseAsync();
                    if (ack.Error is { } error && Interlocked.Increment(ref failed) == 1) firstError = $"{error.Code}: {error.Description}";
                }
                finally
                {
                    await future.DisposeAsync();
                }
            }
            return Stopwatch.GetTimestamp();
        });
        if (!stamp) payload.AsSpan(0, 8).Clear();
        var start = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (rate > 0) Pace.Until(start, i, rate);
                await inFlight.Writer.WaitToWriteAsync();
                if (stamp) LatencyRecorder.Stamp(payload);
                var future = await js.PublishConcurrentAsync(subjects[i % subjects.Length], payload);
                if (!inFlight.Writer.TryWrite(future)) await inFlight.Writer.WriteAsync(future);
            }
        }
        finally
        {
            inFlight.Writer.Complete();
        }
        var lastAck = await acks.WaitAsync(Deadline(count));
        if (failed > 0) throw new InvalidOperationException($"{failed:N0} of {count:N0} publishes failed; first error: {firstError}");
        return (start, lastAck);
    }
}

/// <summary>Fixed-rate sending: record i is due <c>i / rate</c> seconds after the start.</summary>
internal static class Pace
{
    /// <summary>Blocks until record <paramref name="index"/> is due (sleeps in 1 ms steps, so records leave in ~1 ms bursts).</summary>
    public static void Until(long startTicks, int index, int rate)
    {
        var due = startTicks + (long)((double)index / rate * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < due) Thread.Sleep(1);
    }
}
