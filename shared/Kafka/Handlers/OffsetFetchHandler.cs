using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // OffsetFetch: a partition without a committed offset answers offset -1 with no error (so
    // does an unknown group). A null topic list (v2+) asks for every committed partition of the
    // group. v5+ returns the committed leader epoch; v8+ (KIP-709) batches groups. No
    // transactional offsets are ever pending here, so require_stable (v7+) changes nothing. v9
    // carries the member id and epoch of a consumer-protocol member (KIP-848), checked against
    // its group (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).
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
                if (context.Version >= 9 && Groups.ValidateOffsetFetch(g.GroupId, g.MemberId, g.MemberEpoch) is var invalid && invalid != KafkaErrorCode.None)
                {
                    group.ErrorCode = (short)invalid;
                    response.Groups.Add(group);
                    continue;
                }
                foreach (var (topic, partitions) in CommittedFor(g.GroupId, wanted))
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
                        });
                    }
                    group.Topics.Add(t);
                }
                response.Groups.Add(group);
            }
            return response;
        }

        List<(string, List<int>?)>? requested = null;
        if (request.Topics is not null)
        {
            requested = [];
            foreach (var t in request.Topics) requested.Add((t.Name, t.PartitionIndexes));
        }
        foreach (var (topic, partitions) in CommittedFor(request.GroupId, requested))
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
                });
            }
            response.Topics.Add(t);
        }
        return response;
    }

    /// <summary>The requested partitions with their committed offset (null: none), or every committed partition when <paramref name="wanted"/> is null.</summary>
    private List<(string Topic, List<(int Partition, StoredOffset? Offset)> Partitions)> CommittedFor(string groupId, List<(string Topic, List<int>? Partitions)>? wanted)
    {
        var committed = Groups.FetchOffsets(groupId);
        var result = new List<(string, List<(int, StoredOffset?)>)>();
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
                list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
                result.Add((topic, list));
            }
            return result;
        }
        foreach (var (topic, partitions) in wanted)
        {
            var list = new List<(int, StoredOffset?)>();
            foreach (var p in partitions ?? [])
                list.Add((p, committed.TryGetValue((topic, p), out var o) ? o : null));
            result.Add((topic, list));
        }
        return result;
    }
}
