using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // TxnOffsetCommit: offsets held with the transaction (saved with its state) and stored as the
    // group's committed offsets only when its commit marker is written; an abort drops them. The
    // group's generation and member (v3+) are not checked: a zombie is fenced by its epoch.
    // With ACLs: Write on the transactional id, Read on the group and on each topic.
    private async ValueTask<KafkaResponse?> HandleTxnOffsetCommitAsync(KafkaRequestContext context, TxnOffsetCommitRequest request)
    {
        var fenced = FencedCode(context.Version, 3);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var offsets = new List<(string, int, StoredOffset)>();
        var error = TransactionRefusal(context, request.TransactionalId, request.GroupId) ?? KafkaErrorCode.None;
        foreach (var topic in request.Topics)
        {
            if (error == KafkaErrorCode.None && !Authorized(context, AclOperation.Read, AclResourceType.Topic, topic.Name)) error = KafkaErrorCode.TopicAuthorizationFailed;
            foreach (var p in topic.Partitions)
            {
                if (error != KafkaErrorCode.None) continue;
                if (!PartitionExists(topic.Name, p.PartitionIndex)) error = KafkaErrorCode.UnknownTopicOrPartition;
                else if (p.CommittedMetadata is { Length: var n } && n > Groups.Options.MaxOffsetMetadataLength) error = KafkaErrorCode.OffsetMetadataTooLarge;
                offsets.Add((topic.Name, p.PartitionIndex, new StoredOffset(p.CommittedOffset, context.Version >= 2 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata, nowMs)));
            }
        }
        if (error == KafkaErrorCode.None)
        {
            error = await CoordinatorCallAsync(() => Transactions.AddOffsetsAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.GroupId, offsets, fenced, context.ConnectionClosed)).ConfigureAwait(false);
        }
        var response = new TxnOffsetCommitResponse();
        foreach (var topic in request.Topics)
        {
            var result = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
                result.Partitions.Add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            response.Topics.Add(result);
        }
        return new KafkaResponse(response);
    }
}
