using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ConsumerGroupDescribe (KIP-848): epochs, assignor, and per member its subscription, current
    // and target assignment. An unknown group, or a classic one, is GROUP_ID_NOT_FOUND; with ACLs a
    // group the principal may not Describe is GROUP_AUTHORIZATION_FAILED.
    private ConsumerGroupDescribeResponse HandleConsumerGroupDescribe(KafkaRequestContext context, ConsumerGroupDescribeRequest request)
    {
        var catalog = Catalog;
        var response = new ConsumerGroupDescribeResponse();
        foreach (var id in request.GroupIds)
        {
            var g = id.Length == 0
                ? new ConsumerGroupDescription(KafkaErrorCode.InvalidGroupId, "GroupId can't be empty.", id)
                : !Authorized(context, AclOperation.Describe, AclResourceType.Group, id)
                    ? new ConsumerGroupDescription(KafkaErrorCode.GroupAuthorizationFailed, null, id)
                    : Groups.DescribeConsumerGroup(id);
            var described = new ConsumerGroupDescribeResponse.DescribedGroup
            {
                ErrorCode = (short)g.Error,
                ErrorMessage = g.ErrorMessage,
                GroupId = id,
                GroupState = g.State,
                GroupEpoch = g.GroupEpoch,
                AssignmentEpoch = g.AssignmentEpoch,
                AssignorName = g.AssignorName,
            };
            foreach (var m in g.Members ?? [])
            {
                described.Members.Add(new ConsumerGroupDescribeResponse.Member
                {
                    MemberId = m.MemberId,
                    InstanceId = m.InstanceId,
                    RackId = m.RackId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    SubscribedTopicNames = [.. m.SubscribedTopicNames],
                    SubscribedTopicRegex = m.SubscribedTopicRegex,
                    Assignment = DescribedAssignment(catalog, m.Assignment),
                    TargetAssignment = DescribedAssignment(catalog, m.TargetAssignment),
                });
            }
            response.Groups.Add(described);
        }
        return response;
    }

    private static ConsumerGroupDescribeResponse.Assignment DescribedAssignment(EdgeStream.Metadata.TopicCatalog catalog, IReadOnlyList<TopicPartitionKey> partitions)
    {
        var assignment = new ConsumerGroupDescribeResponse.Assignment();
        foreach (var byTopic in partitions.GroupBy(p => p.Topic, StringComparer.Ordinal))
        {
            assignment.TopicPartitions.Add(new ConsumerGroupDescribeResponse.TopicPartitions
            {
                TopicId = catalog.TopicId(byTopic.Key),
                TopicName = byTopic.Key,
                Partitions = [.. byTopic.Select(p => p.Partition)],
            });
        }
        return assignment;
    }
}
