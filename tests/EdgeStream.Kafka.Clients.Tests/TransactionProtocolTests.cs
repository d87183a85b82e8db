using System.Net.Sockets;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// The transaction APIs on the wire, request by request, for the error codes no client shows
/// directly: produce outside a transaction, client-written markers, verify_only, retried EndTxn,
/// fencing by epoch, and what ListTransactions and DescribeTransactions report.
/// </summary>
[Collection(SharedAgentCollection.Name)]
public sealed class TransactionProtocolTests(SharedAgent agent)
{
    private int _correlation;

    private async Task<TResponse> CallAsync<TResponse>(Socket socket, ApiKey api, short version, IKafkaMessage body)
        where TResponse : IKafkaMessage, new()
    {
        var id = ++_correlation;
        await socket.SendAsync(RawKafka.Request((short)api, version, id, body), SocketFlags.None);
        return RawKafka.ReadResponse<TResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(15)), api, version, id);
    }

    private async Task<short> ProduceAsync(Socket socket, string topic, byte[] batch)
    {
        var id = ++_correlation;
        await socket.SendAsync(RawKafka.ProduceRequest(topic, batch, 9, correlationId: id), SocketFlags.None);
        return RawKafka.ReadProduceResponse(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(15)), 9, id).Responses.Single().PartitionResponses.Single().ErrorCode;
    }

    private static byte[] Batch(long producerId, short epoch, int sequence) =>
        new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = sequence, IsTransactional = true }
            .Add(null, "txn"u8.ToArray(), 1_700_000_000_000).Build();

    private Task<EndTxnResponse> EndAsync(Socket socket, string id, long producerId, short epoch, bool commit) =>
        CallAsync<EndTxnResponse>(socket, ApiKey.EndTxn, 3, new EndTxnRequest { TransactionalId = id, ProducerId = producerId, ProducerEpoch = epoch, Committed = commit });

    [Fact]
    public async Task TransactionApis_OneTransactionStepByStep_KafkaErrorCodesAndDescriptions()
    {
        using var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort);
        var txnId = Unique.Name("wire-txn");
        var topic = Unique.Name("wire-txn-topic");
        var init = await CallAsync<InitProducerIdResponse>(socket, ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = txnId, TransactionTimeoutMs = 60_000 });
        Assert.Equal((short)0, init.ErrorCode);
        var (pid, epoch) = (init.ProducerId, init.ProducerEpoch);

        // Not added to a transaction yet (this also creates the topic): INVALID_TXN_STATE.
        Assert.Equal(48, await ProduceAsync(socket, topic, Batch(pid, epoch, 0)));
        // Markers are the coordinator's: INVALID_RECORD.
        Assert.Equal(87, await ProduceAsync(socket, topic, ControlBatch.Build(pid, epoch, ControlRecordType.Commit, 0, 1_700_000_000_000)));

        var add = await CallAsync<AddPartitionsToTxnResponse>(socket, ApiKey.AddPartitionsToTxn, 3, new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = txnId, V3AndBelowProducerId = pid, V3AndBelowProducerEpoch = epoch,
            V3AndBelowTopics = { new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = topic, Partitions = { 0 } } },
        });
        Assert.Equal((short)0, add.ResultsByTopicV3AndBelow.Single().ResultsByPartition.Single().PartitionErrorCode);
        Assert.Equal(0, await ProduceAsync(socket, topic, Batch(pid, epoch, 0)));

        // v4, as a broker verifies: partition 0 is in the transaction, partition 1 is not.
        var verify = await CallAsync<AddPartitionsToTxnResponse>(socket, ApiKey.AddPartitionsToTxn, 4, new AddPartitionsToTxnRequest
        {
            Transactions =
            {
                new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction
                {
                    TransactionalId = txnId, ProducerId = pid, ProducerEpoch = epoch, VerifyOnly = true,
                    Topics = { new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = topic, Partitions = { 0, 1 } } },
                },
            },
        });
        var verified = verify.ResultsByTransaction.Single().TopicResults.Single().ResultsByPartition.ToDictionary(p => p.PartitionIndex, p => p.PartitionErrorCode);
        Assert.Equal((short)0, verified[0]);
        Assert.Equal((short)48, verified[1]);

        var list = await CallAsync<ListTransactionsResponse>(socket, ApiKey.ListTransactions, 1, new ListTransactionsRequest { StateFilters = { "Ongoing", "Bogus" } });
        Assert.Equal(["Bogus"], list.UnknownStateFilters);
        Assert.Contains(list.TransactionStates, s => s.TransactionalId == txnId && s.ProducerId == pid && s.TransactionStateValue == "Ongoing");

        var described = await CallAsync<DescribeTransactionsResponse>(socket, ApiKey.DescribeTransactions, 0, new DescribeTransactionsRequest { TransactionalIds = { txnId, "never-seen" } });
        var state = described.TransactionStates[0];
        Assert.Equal(("Ongoing", 60_000, pid, epoch), (state.TransactionStateValue, state.TransactionTimeoutMs, state.ProducerId, state.ProducerEpoch));
        Assert.True(state.TransactionStartTimeMs > 0);
        Assert.Equal([(topic, 0)], state.Topics.SelectMany(t => t.Partitions.Select(p => (t.Topic, p))));
        Assert.Equal((short)105, described.TransactionStates[1].ErrorCode); // TRANSACTIONAL_ID_NOT_FOUND

        Assert.Equal((short)0, (await EndAsync(socket, txnId, pid, epoch, commit: true)).ErrorCode);
        // A retried commit is answered as success; the other outcome is INVALID_TXN_STATE.
        Assert.Equal((short)0, (await EndAsync(socket, txnId, pid, epoch, commit: true)).ErrorCode);
        Assert.Equal((short)48, (await EndAsync(socket, txnId, pid, epoch, commit: false)).ErrorCode);

        // A new instance bumps the epoch: the old one is fenced, on EndTxn and on produce.
        var second = await CallAsync<InitProducerIdResponse>(socket, ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = txnId, TransactionTimeoutMs = 60_000 });
        Assert.Equal((pid, (short)(epoch + 1)), (second.ProducerId, second.ProducerEpoch));
        Assert.Equal((short)90, (await EndAsync(socket, txnId, pid, epoch, commit: true)).ErrorCode); // PRODUCER_FENCED
        Assert.Equal(47, await ProduceAsync(socket, topic, Batch(pid, epoch, 1)));                    // INVALID_PRODUCER_EPOCH

        // A timeout beyond transaction.max.timeout.ms: INVALID_TRANSACTION_TIMEOUT.
        var tooLong = await CallAsync<InitProducerIdResponse>(socket, ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = txnId, TransactionTimeoutMs = 1_000_000 });
        Assert.Equal((short)50, tooLong.ErrorCode);
    }
}
