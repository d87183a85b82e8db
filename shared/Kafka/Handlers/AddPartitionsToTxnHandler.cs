using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AddPartitionsToTxn: v0-v3 one transaction from a producer; v4+ (KIP-890) a batch of
    // transactions, as brokers send them to verify (verify_only) before appending. With ACLs: Write on
    // the transactional id and on each topic; one refused topic fails the request (the others OPERATION_NOT_ATTEMPTED), as Kafka does.
    private async ValueTask<KafkaResponse?> HandleAddPartitionsToTxnAsync(KafkaRequestContext context, AddPartitionsToTxnRequest request)
    {
        var fenced = FencedCode(context.Version, 2);
        var response = new AddPartitionsToTxnResponse();
        if (context.Version <= 3)
        {
            response.ResultsByTopicV3AndBelow = await AddPartitionsAsync(context, request.V3AndBelowTransactionalId, request.V3AndBelowProducerId,
                request.V3AndBelowProducerEpoch, request.V3AndBelowTopics, verifyOnly: false, fenced, context.ConnectionClosed).ConfigureAwait(false);
            return new KafkaResponse(response);
        }
        foreach (var txn in request.Transactions)
        {
            var results = await AddPartitionsAsync(context, txn.TransactionalId, txn.ProducerId, txn.ProducerEpoch, txn.Topics, txn.VerifyOnly, fenced, context.ConnectionClosed).ConfigureAwait(false);
            response.ResultsByTransaction.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnResult { TransactionalId = txn.TransactionalId, TopicResults = results });
        }
        return new KafkaResponse(response);
    }

    private async Task<List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult>> AddPartitionsAsync(KafkaRequestContext context, string transactionalId, long producerId, short epoch,
        List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics, bool verifyOnly, short fenced, CancellationToken cancellationToken)
    {
        var partitions = new List<(string, int)>();
        foreach (var topic in topics)
            foreach (var p in topic.Partitions) partitions.Add((topic.Name, p));
        KafkaErrorCode error;
        Dictionary<(string, int), KafkaErrorCode>? perPartition;
        if (TransactionRefusal(context, transactionalId, null) is { } refused)
        {
            (error, perPartition) = (refused, null);
        }
        else if (DeniedTopicWrites(context, topics) is { } denied)
        {
            (error, perPartition) = (KafkaErrorCode.OperationNotAttempted, denied);
        }
        else
        {
            try
            {
                (error, perPartition) = await Transactions.AddPartitionsAsync(transactionalId, producerId, epoch, partitions, verifyOnly, fenced, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EdgeStreamException or IOException)
            {
                (error, perPartition) = (ErrorFor(ex), null);
            }
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

    /// <summary>TOPIC_AUTHORIZATION_FAILED for each partition of a topic the principal may not Write, or null when there is none.</summary>
    private Dictionary<(string, int), KafkaErrorCode>? DeniedTopicWrites(KafkaRequestContext context, List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics)
    {
        Dictionary<(string, int), KafkaErrorCode>? denied = null;
        foreach (var topic in topics)
        {
            if (Authorized(context, AclOperation.Write, AclResourceType.Topic, topic.Name)) continue;
            denied ??= [];
            foreach (var p in topic.Partitions) denied[(topic.Name, p)] = KafkaErrorCode.TopicAuthorizationFailed;
        }
        return denied;
    }
}
