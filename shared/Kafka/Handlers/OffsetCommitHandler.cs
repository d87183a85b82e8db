using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetCommit: every partition of the request is validated, then all accepted ones are
    // stored in one metadata-store transaction (atomic per request, durable once answered).
    // v0 carries no generation or member ("simple" commits, allowed while the group is empty);
    // v1 a commit timestamp; v2-v4 a retention time (not applied: offsets live until deleted);
    // v6+ the committed leader epoch; v7+ group.instance.id. With ACLs: Read on the group, else
    // every partition fails; Read on each topic, else that topic's partitions fail and the rest commit.
    private OffsetCommitResponse HandleOffsetCommit(KafkaRequestContext context, OffsetCommitRequest request)
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var groupAllowed = Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId);
        var offsets = new List<(string, int, StoredOffset)>();
        var denied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var topic in request.Topics)
        {
            if (!groupAllowed || denied.Contains(topic.Name)) continue;
            if (!Authorized(context, AclOperation.Read, AclResourceType.Topic, topic.Name))
            {
                denied.Add(topic.Name);
                continue;
            }
            foreach (var p in topic.Partitions)
            {
                var timestamp = context.Version == 1 && p.CommitTimestamp >= 0 ? p.CommitTimestamp : nowMs;
                var epoch = context.Version >= 6 ? p.CommittedLeaderEpoch : -1;
                offsets.Add((topic.Name, p.PartitionIndex, new StoredOffset(p.CommittedOffset, epoch, p.CommittedMetadata, timestamp)));
            }
        }
        var generation = context.Version >= 1 ? request.GenerationIdOrMemberEpoch : -1;
        var memberId = context.Version >= 1 ? request.MemberId : "";
        // Refused outright (the group, or every topic named): the coordinator is not asked.
        var errors = !groupAllowed || (offsets.Count == 0 && denied.Count > 0) ? Array.Empty<KafkaErrorCode>() : Groups.CommitOffsets(request.GroupId, generation, memberId, context.Version >= 7 ? request.GroupInstanceId : null,
            context.Version, offsets, PartitionExists);

        var response = new OffsetCommitResponse();
        var i = 0;
        foreach (var topic in request.Topics)
        {
            var result = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                var error = !groupAllowed ? KafkaErrorCode.GroupAuthorizationFailed
                    : denied.Contains(topic.Name) ? KafkaErrorCode.TopicAuthorizationFailed
                    : errors[i++];
                result.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error });
            }
            response.Topics.Add(result);
        }
        return response;
    }

    private bool PartitionExists(string topic, int partition) =>
        Catalog.TryGet(topic, out var log) && log is not null && log.TryGetPartition(partition, out _);
}
