using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetDelete (KIP-496): deletes committed offsets of an empty group, or of topics no
    // member of a consumer group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
    private OffsetDeleteResponse HandleOffsetDelete(KafkaRequestContext context, OffsetDeleteRequest request)
    {
        if (!Authorized(context, AclOperation.Delete, AclResourceType.Group, request.GroupId))
            return new OffsetDeleteResponse { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed };
        var partitions = new List<(string, int)>();
        foreach (var t in request.Topics)
            foreach (var p in t.Partitions) partitions.Add((t.Name, p.PartitionIndex));
        var (error, errors) = Groups.DeleteOffsets(request.GroupId, partitions);
        var response = new OffsetDeleteResponse { ErrorCode = (short)error };
        if (error != KafkaErrorCode.None) return response;
        var i = 0;
        foreach (var t in request.Topics)
        {
            var topic = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = t.Name };
            foreach (var p in t.Partitions)
                topic.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)errors[i++] });
            response.Topics.Add(topic);
        }
        return response;
    }
}
