using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetCommit: every partition of the request is validated, then all accepted ones are
    // stored in one metadata-store transaction (atomic per request, durable once answered).
    // v0 carries no generation or member ("simple" commits, allowed while the group is empty);
    // v1 a commit timestamp; v2-v4 a retention time (not applied: offsets live until deleted);
    // v6+ the committed leader epoch; v7+ group.instance.id.
    private OffsetCommitResponse HandleOffsetCommit(KafkaRequestContext context, OffsetCommitRequest request)
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var offsets = new List<(string, int, StoredOffset)>();
        foreach (var topic in request.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                var timestamp = context.Version == 1 && p.CommitTimestamp >= 0 ? p.CommitTimestamp : nowMs;
                var epoch = context.Version >= 6 ? p.CommittedLeaderEpoch : -1;
                offsets.Add((topic.Name, p.PartitionIndex, new StoredOffset(p.CommittedOffset, epoch, p.CommittedMetadata, timestamp)));
            }
        }
        var generation = context.Version >= 1 ? request.GenerationIdOrMemberEpoch : -1;
        var memberId = context.Version >= 1 ? request.MemberId : "";
        var errors = Groups.CommitOffsets(request.GroupId, generation, memberId, context.Version >= 7 ? request.GroupInstanceId : null,
            context.Version, offsets, PartitionExists);

        var response = new OffsetCommitResponse();
        var i = 0;
        foreach (var topic in request.Topics)
        {
            var result = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
                result.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)errors[i++] });
            response.Topics.Add(result);
        }
        return response;
    }

    private bool PartitionExists(string topic, int partition) =>
        Catalog.TryGet(topic, out var log) && log is not null && log.TryGetPartition(partition, out _);
}
