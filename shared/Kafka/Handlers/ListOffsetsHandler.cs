using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    private const long LatestTimestamp = -1;
    private const long EarliestTimestamp = -2;
    private const long MaxTimestamp = -3;

    // ListOffsets: earliest (-2) is the log start, latest (-1) the high watermark (the last stable
    // offset for read_committed), a timestamp
    // the first record at or after it; max-timestamp (-3, KIP-734) the first record carrying the
    // largest timestamp, with that timestamp (-1 and -1 for an empty partition). Needs Describe on the topic.
    private ListOffsetsResponse HandleListOffsets(KafkaRequestContext context, ListOffsetsRequest request)
    {
        var response = new ListOffsetsResponse();
        foreach (var wanted in request.Topics)
        {
            var topicResponse = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = wanted.Name };
            response.Topics.Add(topicResponse);
            var denied = !Authorized(context, AclOperation.Describe, AclResourceType.Topic, wanted.Name);
            Catalog.TryGet(wanted.Name, out var topic);
            foreach (var p in wanted.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex, Timestamp = -1, Offset = -1, LeaderEpoch = 0 };
                topicResponse.Partitions.Add(result);
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
                switch (p.Timestamp)
                {
                    case EarliestTimestamp:
                        result.Offset = partition!.LogStartOffset;
                        break;
                    case LatestTimestamp:
                        // read_committed (v2+, isolation level 1): the end a committed reader can reach.
                        result.Offset = context.Version >= 2 && request.IsolationLevel == 1 ? partition!.LastStableOffset : partition!.HighWatermark;
                        break;
                    case MaxTimestamp:
                        if (partition!.FindMaxTimestamp() is { } max)
                        {
                            result.Offset = max.Offset;
                            result.Timestamp = max.Timestamp;
                        }
                        break;
                    case < 0:
                        result.Offset = partition!.LogStartOffset; // -4 (earliest local) and the like: the whole log is local
                        break;
                    default:
                        var found = partition!.FindOffsetByTimestamp(p.Timestamp);
                        if (found is { } offset)
                        {
                            result.Offset = offset;
                            result.Timestamp = p.Timestamp;
                        }
                        break;
                }
                if (context.Version == 0) result.OldStyleOffsets = [result.Offset];
            }
        }
        return response;
    }
}
