using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AddPartitionsToTxn: v0-v3 one transaction from a producer; v4+ (KIP-890) a batch of
    // transactions, as brokers send them to verify (verify_only) before appending.
    private async ValueTask<KafkaResponse?> HandleAddPartitionsToTxnAsync(KafkaRequestContext context, AddPartitionsToTxnRequest request)
    {
        var fenced = FencedCode(context.Version, 2);
        var response = new AddPartitionsToTxnResponse();
        if (context.Version <= 3)
        {
            response.ResultsByTopicV3AndBelow = await AddPartitionsAsync(request.V3AndBelowTransactionalId, request.V3AndBelowProducerId,
                request.V3AndBelowProducerEpoch, request.V3AndBelowTopics, verifyOnly: false, fenced, context.ConnectionClosed).ConfigureAwait(false);
            return new KafkaResponse(response);
        }
        foreach (var txn in request.Transactions)
        {
            var results = await AddPartitionsAsync(txn.TransactionalId, txn.ProducerId, txn.ProducerEpoch, txn.Topics, txn.VerifyOnly, fenced, context.ConnectionClosed).ConfigureAwait(false);
            response.ResultsByTransaction.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnResult { TransactionalId = txn.TransactionalId, TopicResults = results });
        }
        return new KafkaResponse(response);
    }

    private async Task<List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult>> AddPartitionsAsync(string transactionalId, long producerId, short epoch,
        List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics, bool verifyOnly, short fenced, CancellationToken cancellationToken)
    {
        var partitions = new List<(string, int)>();
        foreach (var topic in topics)
            foreach (var p in topic.Partitions) partitions.Add((topic.Name, p));
        KafkaErrorCode error;
        Dictionary<(string, int), KafkaErrorCode>? perPartition;
        try
        {
            (error, perPartition) = await Transactions.AddPartitionsAsync(transactionalId, producerId, epoch, partitions, verifyOnly, fenced, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException)
        {
            (error, perPartition) = (ErrorFor(ex), null);
        }
        var results = new List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult>(topics.Count);
        foreach (var topic in topics)
        {
            var result = new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                var code = perPartition is not null && perPartition.TryGetValue((topic.Name, p), out var c) ? c : error;
                result.ResultsByPartition.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult { PartitionIndex = p, PartitionErrorCode = (short)code });
            }
            results.Add(result);
        }
        return results;
    }
}
