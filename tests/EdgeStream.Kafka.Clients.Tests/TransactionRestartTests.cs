using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// The agent is killed (SIGKILL) while a transaction is open and started again; the application
/// does what Kafka's documentation tells it to: commit, and on an abortable error abort and redo
/// the transaction, on a fatal one start a new producer and redo it. A read_committed consumer
/// then sees every value exactly once, in order.
/// </summary>
public class TransactionRestartTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KillMidTransaction_ClientRetries_EveryValueExactlyOnce()
    {
        using var dir = new TempDirectory();
        await using var node = await AgentNode.StartAsync(dir.Combine("data"));
        var topic = Unique.Name("txn-kill");
        var tp = new TopicPartition(topic, 0);
        var id = Unique.Name("txn-kill-id");
        const int transactions = 6, perTransaction = 20;

        var producer = TransactionTests.TransactionalProducer(node.Bootstrap, id);
        try
        {
            for (var t = 0; t < transactions; t++)
            {
                var values = Enumerable.Range(t * perTransaction, perTransaction).Select(i => $"v{i:D4}").ToList();
                var attempts = 0;
                while (true)
                {
                    Assert.True(++attempts <= 5, $"transaction {t} did not commit in 5 attempts\n{Clients.Diagnostics()}");
                    producer.BeginTransaction();
                    foreach (var v in values) producer.Produce(tp, new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes(v) });
                    // The third transaction is open, with records written, when the agent dies.
                    if (t == 2 && attempts == 1)
                    {
                        producer.Flush(s_timeout);
                        await node.RestartAsync(kill: true);
                    }
                    var (committed, replacement) = Commit(producer, node.Bootstrap, id);
                    producer = replacement;
                    if (committed) break;
                }
            }
        }
        finally
        {
            producer.Dispose();
        }

        var expected = Enumerable.Range(0, transactions * perTransaction).Select(i => $"v{i:D4}").ToList();
        var seen = TransactionTests.ReadCommitted(node.Bootstrap, topic, expected.Count, s_timeout);
        Assert.True(expected.SequenceEqual(seen), $"read_committed saw {seen.Count}: {string.Join(',', seen)}\n{Clients.Diagnostics()}");

        // And the committed state itself survived: after one more restart the same is read.
        await node.RestartAsync(kill: true);
        Assert.Equal(expected, TransactionTests.ReadCommitted(node.Bootstrap, topic, expected.Count, s_timeout));
    }

    /// <summary>
    /// Commits as librdkafka's documentation says: a retriable error commits again (the outcome is
    /// not known yet), an abortable one aborts, a fatal one needs a new producer (which aborts
    /// whatever the old one left open). False when the transaction must be done again.
    /// </summary>
    private static (bool Committed, IProducer<byte[], byte[]> Producer) Commit(IProducer<byte[], byte[]> producer, string bootstrap, string id)
    {
        for (var retry = 0; retry < 10; retry++)
        {
            try
            {
                producer.CommitTransaction(s_timeout);
                return (true, producer);
            }
            catch (KafkaRetriableException)
            {
            }
            catch (KafkaTxnRequiresAbortException)
            {
                try
                {
                    producer.AbortTransaction(s_timeout);
                    return (false, producer);
                }
                catch (KafkaException)
                {
                    return (false, Replace(producer, bootstrap, id));
                }
            }
            catch (KafkaException)
            {
                return (false, Replace(producer, bootstrap, id));
            }
        }
        return (false, Replace(producer, bootstrap, id));
    }

    private static IProducer<byte[], byte[]> Replace(IProducer<byte[], byte[]> old, string bootstrap, string id)
    {
        old.Dispose();
        return TransactionTests.TransactionalProducer(bootstrap, id);
    }
}
