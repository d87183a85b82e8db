using System.Diagnostics;
using Confluent.Kafka;

namespace EdgeStream.Bench.Scenarios;

/// <summary>
/// kafka-transactions: what transactions cost a producer. Against one fresh agent, in the same run
/// and alternating, a Confluent.Kafka idempotent producer (acks=all) and a transactional one that
/// commits every <c>--commit-ms</c> (default 100 ms) each send <c>--records</c> payloads of
/// <c>--record-bytes</c> round-robin over <c>--partitions</c> partitions as fast as the window
/// allows. msg/s counts from the first send to the last acknowledgement (idempotent) or the last
/// commit (transactional): the transactional figure includes waiting for every EndTxn, whose
/// markers are durable before it is answered.
/// </summary>
public static class KafkaTransactionsScenario
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var records = args.Int("records", 300_000);
        var recordBytes = args.Int("record-bytes", 1024);
        var partitions = args.Int("partitions", 6);
        var window = args.Int("window", 10_000);
        var commitMs = args.Int("commit-ms", 100);
        var rounds = args.Int("rounds", 2);
        var fsync = args.String("fsync", "group");
        if (records <= 0 || recordBytes <= 0 || partitions <= 0 || window <= 0 || commitMs <= 0 || rounds <= 0)
            throw new ArgumentException("--records, --record-bytes, --partitions, --window, --commit-ms and --rounds must be positive");
        var agentDll = Servers.AgentDll(args);
        var root = args.String("dir", Path.Combine(Path.GetTempPath(), "edgestream-bench-txn-" + Environment.ProcessId));
        Directory.CreateDirectory(root);
        var payload = new byte[recordBytes];
        new Random(1).NextBytes(payload);
        Console.WriteLine($"kafka-transactions: {records:N0} records x {recordBytes} B over {partitions} partitions, fsync={fsync}, at most {window:N0} unacknowledged, {rounds} round(s) of (idempotent, transactional committing every {commitMs} ms)");
        Console.WriteLine($"  edgestream: {agentDll}; Confluent.Kafka acks=all linger.ms=5 compression=none");
        Console.WriteLine();

        var rows = new List<(string Name, double MsgPerSec, int Transactions)>();
        try
        {
            var (agent, bootstrap) = await Servers.StartAgentAsync(agentDll, Path.Combine(root, "agent"), partitions, fsync);
            await using (agent)
            {
                // Warm-up: creates the topics, JITs both ends.
                RunIdempotent(bootstrap, "warmup", payload, Math.Min(records, 20_000), partitions, window);
                for (var round = 1; round <= rounds; round++)
                {
                    var idempotent = RunIdempotent(bootstrap, $"idem-{round}", payload, records, partitions, window);
                    rows.Add(($"idempotent, round {round}", idempotent, 0));
                    Console.WriteLine($"  idempotent, round {round}: {idempotent:N0} msg/s");
                    var (transactional, count) = RunTransactional(bootstrap, $"txn-{round}", payload, records, partitions, window, commitMs);
                    rows.Add(($"transactional, round {round}", transactional, count));
                    Console.WriteLine($"  transactional, round {round}: {transactional:N0} msg/s, {count} transactions");
                }
            }
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        Console.WriteLine();
        Report.Header("run", "msg/s", "MB/s", "transactions", "vs idempotent (same round)");
        for (var i = 0; i < rows.Count; i++)
        {
            var (name, rate, count) = rows[i];
            var baseline = rows[i - i % 2].MsgPerSec;
            Report.Row(name, rate, rate * recordBytes / (1024 * 1024), count, rate / baseline);
        }
        return 0;
    }

    private static ProducerConfig Config(string bootstrap, int window) => new()
    {
        BootstrapServers = bootstrap,
        Acks = Acks.All,
        LingerMs = 5,
        BatchSize = 1_000_000,
        CompressionType = CompressionType.None,
        EnableIdempotence = true,
        QueueBufferingMaxMessages = window,
        QueueBufferingMaxKbytes = 4 * 1024 * 1024,
        DeliveryReportFields = "none",
        BrokerAddressFamily = BrokerAddressFamily.V4,
    };

    private static double RunIdempotent(string bootstrap, string topic, byte[] payload, int records, int partitions, int window)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(Config(bootstrap, window)).SetLogHandler((_, _) => { }).Build();
        var start = Stopwatch.GetTimestamp();
        var sent = 0;
        Send(producer, topic, payload, partitions, ref sent, records, long.MaxValue);
        Flush(producer);
        return records / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static (double MsgPerSec, int Transactions) RunTransactional(string bootstrap, string topic, byte[] payload, int records, int partitions, int window, int commitMs)
    {
        var config = Config(bootstrap, window);
        config.TransactionalId = "bench-" + topic;
        using var producer = new ProducerBuilder<Null, byte[]>(config).SetLogHandler((_, _) => { }).Build();
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        var start = Stopwatch.GetTimestamp();
        var sent = 0;
        var transactions = 0;
        while (sent < records)
        {
            producer.BeginTransaction();
            var commitAt = Stopwatch.GetTimestamp() + commitMs * Stopwatch.Frequency / 1000;
            Send(producer, topic, payload, partitions, ref sent, records, commitAt);
            producer.CommitTransaction(TimeSpan.FromSeconds(60));
            transactions++;
        }
        return (records / Stopwatch.GetElapsedTime(start).TotalSeconds, transactions);
    }

    // Sends until `records` are sent or the clock passes `until`, waiting on a full window.
    private static void Send(IProducer<Null, byte[]> producer, string topic, byte[] payload, int partitions, ref int sent, int records, long until)
    {
        var message = new Message<Null, byte[]> { Value = payload };
        while (sent < records && Stopwatch.GetTimestamp() < until)
        {
            try
            {
                producer.Produce(new TopicPartition(topic, sent % partitions), message);
                sent++;
            }
            catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                Thread.Sleep(1); // the window is full: the background poller serves delivery reports
            }
        }
    }

    private static void Flush(IProducer<Null, byte[]> producer)
    {
        if (producer.Flush(TimeSpan.FromMinutes(5)) > 0) throw new TimeoutException("the producer did not deliver everything in 5 minutes");
    }
}
