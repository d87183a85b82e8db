using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Kafka transactions (KIP-98) with Confluent.Kafka (librdkafka): commit and abort seen through
/// read_committed and read_uncommitted consumers, consume-transform-produce with
/// SendOffsetsToTransaction, a zombie fenced by a newer instance, a transaction that times out.
/// </summary>
[Collection(SharedAgentCollection.Name)]
public class TransactionTests(SharedAgent agent)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    internal static IProducer<byte[], byte[]> TransactionalProducer(string bootstrap, string transactionalId, int timeoutMs = 60_000)
    {
        var config = Clients.ProducerConfig(bootstrap);
        config.TransactionalId = transactionalId;
        config.TransactionTimeoutMs = timeoutMs;
        config.MessageTimeoutMs = Math.Min(timeoutMs, 60_000);
        config.ReconnectBackoffMs = 50;
        config.ReconnectBackoffMaxMs = 500;
        var producer = Clients.Producer(config);
        producer.InitTransactions(s_timeout);
        return producer;
    }

    internal static void ProduceValues(IProducer<byte[], byte[]> producer, TopicPartition tp, IEnumerable<string> values)
    {
        foreach (var v in values) producer.Produce(tp, new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes(v) });
        Clients.FlushOrFail(producer, s_timeout);
    }

    internal static IConsumer<byte[], byte[]> ReadCommittedConsumer(string bootstrap, string? group = null, IsolationLevel isolation = IsolationLevel.ReadCommitted) =>
        new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = group ?? "edgestream-txn-tests",
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = isolation,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            FetchWaitMaxMs = 100,
        }).SetLogHandler((_, m) => KafkaClientLog.Add(m)).SetErrorHandler((_, e) => KafkaClientLog.Add(e)).Build();

    /// <summary>Values read (read_committed unless told otherwise) from partition 0 until <paramref name="expected"/> came or the deadline passed.</summary>
    internal static List<string> ReadCommitted(string bootstrap, string topic, int expected, TimeSpan timeout, IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        using var consumer = ReadCommittedConsumer(bootstrap, null, isolation);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var seen = new List<string>();
        var sw = Stopwatch.StartNew();
        while (seen.Count < expected && sw.Elapsed < timeout)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is { IsPartitionEOF: false, Message: not null }) seen.Add(Encoding.UTF8.GetString(r.Message.Value));
        }
        consumer.Close();
        return seen;
    }

    private static IEnumerable<string> Values(string prefix, int from, int count) => Enumerable.Range(from, count).Select(i => $"{prefix}{i:D3}");

    [Fact]
    public void CommitAndAbort_ReadCommittedSeesCommittedInOrder_ReadUncommittedSeesAll()
    {
        var topic = Unique.Name("txn-basic");
        var tp = new TopicPartition(topic, 0);
        using (var producer = TransactionalProducer(agent.Bootstrap, Unique.Name("txn-basic-id")))
        {
            producer.BeginTransaction();
            ProduceValues(producer, tp, Values("c", 0, 10));
            producer.CommitTransaction(s_timeout);

            producer.BeginTransaction();
            ProduceValues(producer, tp, Values("a", 0, 10));
            producer.AbortTransaction(s_timeout);

            producer.BeginTransaction();
            ProduceValues(producer, tp, Values("c", 10, 10));
            producer.CommitTransaction(s_timeout);
        }

        // The last committed record comes after the aborted ones: seeing exactly the committed ones
        // in order means no aborted record was delivered.
        var committed = ReadCommitted(agent.Bootstrap, topic, 20, s_timeout);
        Assert.True(Values("c", 0, 20).SequenceEqual(committed), $"read_committed saw: {string.Join(',', committed)}\n{Clients.Diagnostics()}");

        // librdkafka's default is read_committed: ask for the other explicitly.
        var all = ReadCommitted(agent.Bootstrap, topic, 30, s_timeout, IsolationLevel.ReadUncommitted);
        Assert.Equal(Values("c", 0, 10).Concat(Values("a", 0, 10)).Concat(Values("c", 10, 10)), all);
    }

    [Fact]
    public void OpenTransaction_ReadCommittedWaitsForTheCommit()
    {
        var topic = Unique.Name("txn-open");
        var tp = new TopicPartition(topic, 0);
        using var producer = TransactionalProducer(agent.Bootstrap, Unique.Name("txn-open-id"));
        producer.BeginTransaction();
        ProduceValues(producer, tp, Values("x", 0, 5));
        // A plain record after the open transaction's first one: held back with it (the last stable offset).
        using (var plain = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
        {
            plain.Produce(tp, new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes("plain") });
            // Disposing does not flush: under load the record was still queued and librdkafka dropped it (CI saw 5 of 6).
            Clients.FlushOrFail(plain, s_timeout);
        }

        using var consumer = ReadCommittedConsumer(agent.Bootstrap);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        // The uncommitted records are in the log (read_uncommitted sees them) ...
        Assert.Equal(6, ReadCommitted(agent.Bootstrap, topic, 6, s_timeout, IsolationLevel.ReadUncommitted).Count);
        // ... and a read_committed consumer polling meanwhile gets none of them.
        for (var i = 0; i < 5; i++) Assert.Null(consumer.Consume(TimeSpan.FromMilliseconds(200))?.Message);

        producer.CommitTransaction(s_timeout);
        var seen = new List<string>();
        var sw = Stopwatch.StartNew();
        while (seen.Count < 6 && sw.Elapsed < s_timeout)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) seen.Add(Encoding.UTF8.GetString(r.Message.Value));
        }
        Assert.Equal(Values("x", 0, 5).Append("plain"), seen);
    }

    [Fact]
    public void ConsumeTransformProduce_SendOffsetsToTransaction_OffsetsVisibleOnlyAfterCommit()
    {
        var input = Unique.Name("txn-in");
        var output = Unique.Name("txn-out");
        var group = Unique.Name("txn-group");
        using (var plain = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
            ProduceValues(plain, new TopicPartition(input, 0), Values("in", 0, 20));

        using var producer = TransactionalProducer(agent.Bootstrap, Unique.Name("txn-ctp-id"));
        using var consumer = ReadCommittedConsumer(agent.Bootstrap, group);
        var inputPartition = new TopicPartition(input, 0);
        consumer.Assign(new TopicPartitionOffset(inputPartition, Offset.Beginning));

        // Two rounds of ten: the first committed, the second aborted.
        for (var round = 0; round < 2; round++)
        {
            producer.BeginTransaction();
            var consumed = new List<ConsumeResult<byte[], byte[]>>();
            var sw = Stopwatch.StartNew();
            while (consumed.Count < 10 && sw.Elapsed < s_timeout)
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } r) consumed.Add(r);
            Assert.Equal(10, consumed.Count);
            foreach (var r in consumed)
                producer.Produce(new TopicPartition(output, 0), new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes("out-" + Encoding.UTF8.GetString(r.Message.Value)) });
            Clients.FlushOrFail(producer, s_timeout);
            var next = consumed[^1].Offset.Value + 1;
            producer.SendOffsetsToTransaction([new TopicPartitionOffset(inputPartition, next)], consumer.ConsumerGroupMetadata, s_timeout);

            // Sent but not committed: the group's committed offset has not moved.
            var before = consumer.Committed([inputPartition], s_timeout).Single().Offset;
            Assert.Equal(round == 0 ? Offset.Unset : new Offset(10), before);

            if (round == 0) producer.CommitTransaction(s_timeout);
            else producer.AbortTransaction(s_timeout);
            Assert.Equal(new Offset(10), consumer.Committed([inputPartition], s_timeout).Single().Offset);
        }

        var outputs = ReadCommitted(agent.Bootstrap, output, 10, s_timeout);
        Assert.Equal(Values("in", 0, 10).Select(v => "out-" + v), outputs);
    }

    [Fact]
    public void Zombie_SecondProducerSameTransactionalId_FirstIsFencedAndItsTransactionAborted()
    {
        var topic = Unique.Name("txn-zombie");
        var tp = new TopicPartition(topic, 0);
        var id = Unique.Name("txn-zombie-id");
        using var zombie = TransactionalProducer(agent.Bootstrap, id);
        zombie.BeginTransaction();
        ProduceValues(zombie, tp, Values("zombie", 0, 5));

        using var successor = TransactionalProducer(agent.Bootstrap, id);
        var fenced = Assert.ThrowsAny<KafkaException>(() => zombie.CommitTransaction(s_timeout));
        Assert.True(fenced.Error.IsFatal || fenced.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch, fenced.Error.ToString());

        successor.BeginTransaction();
        ProduceValues(successor, tp, Values("ok", 0, 5));
        successor.CommitTransaction(s_timeout);

        var committed = ReadCommitted(agent.Bootstrap, topic, 5, s_timeout);
        Assert.Equal(Values("ok", 0, 5), committed);
    }

    [Fact]
    public void Timeout_ProducerGoesQuiet_TransactionAbortedAndProducerFenced()
    {
        var topic = Unique.Name("txn-timeout");
        var tp = new TopicPartition(topic, 0);
        using var producer = TransactionalProducer(agent.Bootstrap, Unique.Name("txn-timeout-id"), timeoutMs: 2_000);
        producer.BeginTransaction();
        ProduceValues(producer, tp, Values("late", 0, 3));
        using (var plain = Clients.Producer(Clients.ProducerConfig(agent.Bootstrap)))
            ProduceValues(plain, tp, ["after"]);

        // "after" is held back behind the open transaction until the coordinator aborts it.
        var seen = ReadCommitted(agent.Bootstrap, topic, 1, s_timeout);
        Assert.Equal(["after"], seen);
        Assert.ThrowsAny<KafkaException>(() => producer.CommitTransaction(s_timeout));
    }
}
