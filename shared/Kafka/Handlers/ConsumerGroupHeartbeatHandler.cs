using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ConsumerGroupHeartbeat (KIP-848): joins (epoch 0), heartbeats, acknowledges revocations and
    // leaves (-1, static -2) a consumer-protocol group; the coordinator answers with the member's
    // epoch and, when it changed, its assignment. The wire names topics by id: owned partitions of
    // a topic id we do not know are dropped (the topic is gone), assigned ones are named by theirs.
    // v0 lets the coordinator generate the member id; v1 (KIP-1082) requires the client's own and
    // adds SubscribedTopicRegex. With ACLs, as in Kafka: Read on the group, else
    // GROUP_AUTHORIZATION_FAILED; a subscribed topic the principal may not Describe is
    // TOPIC_AUTHORIZATION_FAILED.
    private ConsumerGroupHeartbeatResponse HandleConsumerGroupHeartbeat(KafkaRequestContext context, ConsumerGroupHeartbeatRequest request)
    {
        if (!Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId))
            return new ConsumerGroupHeartbeatResponse { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed, MemberId = request.MemberId, MemberEpoch = request.MemberEpoch };
        if (request.SubscribedTopicNames is { } subscribed && subscribed.Find(t => !Authorized(context, AclOperation.Describe, AclResourceType.Topic, t)) is { } refused)
            return new ConsumerGroupHeartbeatResponse
            {
                ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed,
                ErrorMessage = $"Not authorized to describe topic {refused}.",
                MemberId = request.MemberId,
                MemberEpoch = request.MemberEpoch,
            };
        var catalog = Catalog;
        List<TopicPartitionKey>? owned = null;
        if (request.TopicPartitions is { } reported)
        {
            owned = [];
            foreach (var t in reported)
            {
                if (catalog.NameOf(t.TopicId) is not { } name) continue;
                foreach (var p in t.Partitions) owned.Add(new TopicPartitionKey(name, p));
            }
        }
        var heartbeat = new ConsumerHeartbeat(request.GroupId, request.MemberId, request.MemberEpoch, request.InstanceId, request.RackId,
            request.RebalanceTimeoutMs, request.SubscribedTopicNames, context.Version >= 1 ? request.SubscribedTopicRegex : null,
            request.ServerAssignor, owned, context.Header.ClientId ?? "", ClientHost(context), context.Version);
        var topics = new TopicView(
            name => catalog.TryGet(name, out var log) && log is not null ? log.PartitionCount : 0,
            () => catalog.Topics.Select(t => t.Name));
        var result = Groups.ConsumerGroupHeartbeat(heartbeat, topics);
        var response = new ConsumerGroupHeartbeatResponse
        {
            ErrorCode = (short)result.Error,
            ErrorMessage = result.ErrorMessage,
            MemberId = result.MemberId,
            MemberEpoch = result.MemberEpoch,
            HeartbeatIntervalMs = result.HeartbeatIntervalMs,
        };
        if (result.Assignment is { } assignment)
        {
            var data = new ConsumerGroupHeartbeatResponse.AssignmentData();
            foreach (var byTopic in assignment.GroupBy(p => p.Topic, StringComparer.Ordinal))
            {
                var id = catalog.TopicId(byTopic.Key);
                if (id == Guid.Empty) continue;
                data.TopicPartitions.Add(new ConsumerGroupHeartbeatResponse.TopicPartitions { TopicId = id, Partitions = [.. byTopic.Select(p => p.Partition).Order()] });
            }
            response.Assignment = data;
        }
        return response;
    }
}
