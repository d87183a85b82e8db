using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetFetch: a partition without a committed offset answers offset -1 with no error (so
    // does an unknown group). A null topic list (v2+) asks for every committed partition of the
    // group. v5+ returns the committed leader epoch; v8+ (KIP-709) batches groups. No
    // transactional offsets are ever pending here, so require_stable (v7+) changes nothing. v9
    // carries the member id and epoch of a consumer-protocol member (KIP-848), checked against
    // its group (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).
    // With ACLs: Describe on the group, else GROUP_AUTHORIZATION_FAILED; a topic the principal may
    // not Describe is TOPIC_AUTHORIZATION_FAILED when named, left out when every topic is asked for.
    private OffsetFetchResponse HandleOffsetFetch(KafkaRequestContext context, OffsetFetchRequest request)
    {
        var response = new OffsetFetchResponse();
        if (context.Version >= 8)
        {
            foreach (var g in request.Groups)
            {
                List<(string, List<int>?)>? wanted = null;
                if (g.Topics is not null)
                {
                    wanted = [];
                    foreach (var t in g.Topics) wanted.Add((t.Name, t.PartitionIndexes));
                }
                var group = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId };
                response.Groups.Add(group);
                if (!Authorized(context, AclOperation.Describe, AclResourceType.Group, g.GroupId))
                {
                    group.ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed;
                    continue;
                }
                if (context.Version >= 9 && Groups.ValidateOffsetFetch(g.GroupId, g.MemberId, g.MemberEpoch) is var invalid && invalid != KafkaErrorCode.None)
                {
                    group.ErrorCode = (short)invalid;
                    continue;
                }
                foreach (var (topic, partitions, denied) in CommittedFor(context, g.GroupId, wanted))
                {
                    var t = new OffsetFetchResponse.OffsetFetchResponseTopics { Name = topic };
                    foreach (var (partition, o) in partitions)
                    {
                        t.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartitions
                        {
                            PartitionIndex = partition,
                            CommittedOffset = o?.Offset ?? -1,
                            CommittedLeaderEpoch = o?.LeaderEpoch ?? -1,
                            Metadata = o is null ? "" : o.Value.Metadata,
                            ErrorCode = (short)(denied ? KafkaErrorCode.TopicAuthorizationFailed : KafkaErrorCode.None),
                        });
                    }
                    group.Topics.Add(t);
                }
            }
            return response;
        }

        List<(string, List<int>?)>? requested = null;
        if (request.Topics is not null)
        {
            requested = [];
            foreach (var t in request.Topics) requested.Add((t.Name, t.PartitionIndexes));
        }
        var groupDenied = !Authorized(context, AclOperation.Describe, AclResourceType.Group, request.GroupId);
        if (groupDenied) response.ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed;
        // v0-v1 have no top-level error: the refusal goes on each partition asked for.
        foreach (var (topic, partitions, denied) in groupDenied ? Refused(requested) : CommittedFor(context, request.GroupId, requested))
        {
            var t = new OffsetFetchResponse.OffsetFetchResponseTopic { Name = topic };
            foreach (var (partition, o) in partitions)
            {
                t.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = partition,
                    CommittedOffset = o?.Offset ?? -1,
                    CommittedLeaderEpoch = o?.LeaderEpoch ?? -1,
                    Metadata = o is null ? "" : o.Value.Metadata,
                    ErrorCode = (short)(groupDenied ? KafkaErrorCode.GroupAuthorizationFailed : denied ? KafkaErrorCode.TopicAuthorizationFailed : KafkaErrorCode.None),
                });
            }
            response.Topics.Add(t);
        }
        return response;
    }

    /// <summary>The requested partitions with their committed offset (null: none), or every committed partition when <paramref name="wanted"/> is null.</summary>
    private List<(string Topic, List<(int Partition, StoredOffset? Offset)> Partitions, bool Denied)> CommittedFor(KafkaRequestContext context, string groupId,
        List<(string Topic, List<int>? Partitions)>? wanted)
    {
        var committed = Groups.FetchOffsets(groupId);
        var result = new List<(string, List<(int, StoredOffset?)>, bool)>();
        if (wanted is null)
        {
            var byTopic = new SortedDictionary<string, List<(int, StoredOffset?)>>(StringComparer.Ordinal);
            foreach (var ((topic, partition), o) in committed)
            {
                if (!byTopic.TryGetValue(topic, out var list)) byTopic[topic] = list = [];
                list.Add((partition, o));
            }
            foreach (var (topic, list) in byTopic)
            {
                if (!Authorized(context, AclOperation.Describe, AclResourceType.Topic, topic, audit: false)) continue;
                list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
                result.Add((topic, list, false));
            }
            return result;
        }
        foreach (var (topic, partitions) in wanted)
        {
            var denied = !Authorized(context, AclOperation.Describe, AclResourceType.Topic, topic);
            var list = new List<(int, StoredOffset?)>();
            foreach (var p in partitions ?? [])
                list.Add((p, !denied && committed.TryGetValue((topic, p), out var o) ? o : null));
            result.Add((topic, list, denied));
        }
        return result;
    }

    /// <summary>The partitions asked for, without offsets (a refused group).</summary>
    private static List<(string Topic, List<(int Partition, StoredOffset? Offset)> Partitions, bool Denied)> Refused(List<(string Topic, List<int>? Partitions)>? wanted)
    {
        var result = new List<(string, List<(int, StoredOffset?)>, bool)>();
        foreach (var (topic, partitions) in wanted ?? [])
        {
            var list = new List<(int, StoredOffset?)>();
            foreach (var p in partitions ?? []) list.Add((p, null));
            result.Add((topic, list, true));
        }
        return result;
    }
}
