using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetDelete (KIP-496): deletes committed offsets of an empty group, or of topics no
    // member of a consumer group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). With ACLs, as
    // Kafka: Delete on the group, else GROUP_AUTHORIZATION_FAILED; Read on each topic, else its
    // partitions are TOPIC_AUTHORIZATION_FAILED and their offsets stay.
    private OffsetDeleteResponse HandleOffsetDelete(KafkaRequestContext context, OffsetDeleteRequest request)
    {
        if (!Authorized(context, AclOperation.Delete, AclResourceType.Group, request.GroupId))
            return new OffsetDeleteResponse { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed };
        var denied = new HashSet<string>(StringComparer.Ordinal);
        var partitions = new List<(string, int)>();
        foreach (var t in request.Topics)
        {
            if (denied.Contains(t.Name)) continue;
            if (!Authorized(context, AclOperation.Read, AclResourceType.Topic, t.Name))
            {
                denied.Add(t.Name);
                continue;
            }
            foreach (var p in t.Partitions) partitions.Add((t.Name, p.PartitionIndex));
        }
        var (error, errors) = Groups.DeleteOffsets(request.GroupId, partitions);
        var response = new OffsetDeleteResponse { ErrorCode = (short)error };
        if (error != KafkaErrorCode.None) return response;
        var i = 0;
        foreach (var t in request.Topics)
        {
            var topic = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = t.Name };
            foreach (var p in t.Partitions)
                topic.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition
                {
                    PartitionIndex = p.PartitionIndex,
                    ErrorCode = (short)(denied.Contains(t.Name) ? KafkaErrorCode.TopicAuthorizationFailed : errors[i++]),
                });
            response.Topics.Add(topic);
        }
        return response;
    }
}
