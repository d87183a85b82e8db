using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Uplink.Sender.Tests;

/// <summary>The uplink forwards committed transactions only: an aborted one never leaves the edge.</summary>
public sealed class TransactionForwardingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Edge_CommittedAbortedCommitted_ParentGetsOnlyTheCommittedRecordsInOrder()
    {
        using var dir = new TempDirectory();
        await using var parent = await FakeParent.StartAsync();
        await using var edge = await AgentNode.StartAsync(dir.Combine("edge"), "edge",
            "--node-id", "edge-txn", "--partitions", "1", "--parent", parent.Address, "--uplink-max-backoff", "1s");

        var tp = new TopicPartition("txn-up", 0);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = edge.Bootstrap,
            TransactionalId = "edge-txn-producer",
            BrokerAddressFamily = BrokerAddressFamily.V4,
            LingerMs = 5,
        }).SetLogHandler((_, _) => { }).Build())
        {
            var timeout = TimeSpan.FromSeconds(30);
            producer.InitTransactions(timeout);
            foreach (var (prefix, commit) in new[] { ("c", true), ("a", false), ("d", true) })
            {
                producer.BeginTransaction();
                for (var i = 0; i < 5; i++) producer.Produce(tp, new Message<byte[], byte[]> { Value = Encoding.UTF8.GetBytes($"{prefix}{i}") });
                Assert.Equal(0, producer.Flush(timeout));
                if (commit) producer.CommitTransaction(timeout);
                else producer.AbortTransaction(timeout);
            }
        }

        // The last committed transaction comes after the aborted one in the log: once it has
        // arrived, anything of the aborted one would have arrived before it.
        Assert.True(await Wait.UntilAsync(() => parent.State.TotalRecords >= 10, Patience),
            $"{parent.State.TotalRecords} of 10 arrived.\n{edge.Process.Stderr}");
        var values = parent.State.Stream("edge-txn", "txn-up", 0).Values.Select(r => Encoding.UTF8.GetString(r.Value!)).ToList();
        Assert.Equal(["c0", "c1", "c2", "c3", "c4", "d0", "d1", "d2", "d3", "d4"], values);
        Assert.Empty(parent.State.Problems);
    }
}
