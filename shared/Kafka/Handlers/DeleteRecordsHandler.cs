using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    /// <summary>DeleteRecords' offset meaning "up to the high watermark" (everything readable).</summary>
    private const long DeleteToHighWatermark = -1;

    // DeleteRecords (KIP-107): moves each partition's log start offset (its low watermark) up to
    // the given offset, -1 meaning the high watermark; records below it can no longer be read and
    // segments wholly below it are deleted. An offset above the high watermark (or below -1) is
    // OFFSET_OUT_OF_RANGE; an offset at or below the current start changes nothing. Each
    // partition answers with its low watermark afterwards. With ACLs: Delete on the topic.
    private DeleteRecordsResponse HandleDeleteRecords(KafkaRequestContext context, DeleteRecordsRequest request)
    {
        var response = new DeleteRecordsResponse();
        var catalog = Catalog;
        foreach (var wanted in request.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = wanted.Name };
            response.Topics.Add(topicResult);
            catalog.TryGet(wanted.Name, out var topic);
            var denied = !Authorized(context, AclOperation.Delete, AclResourceType.Topic, wanted.Name);
            foreach (var p in wanted.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = p.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                if (denied)
                {
                    result.ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed;
                    continue;
                }
                if (topic is null || !topic.TryGetPartition(p.PartitionIndex, out var partition))
                {
                    result.ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition;
                    continue;
                }
                try
                {
                    var offset = p.Offset == DeleteToHighWatermark ? partition!.HighWatermark : p.Offset;
                    partition!.DeleteRecordsBefore(offset);
                    result.LowWatermark = partition.LogStartOffset;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    result.ErrorCode = AdminFailure(context, ex).Code;
                }
            }
        }
        return response;
    }
}
