using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Client;

// Consumer-group administration: every call but ListGroups goes to the group's coordinator, found with
// FindCoordinator (key type 0, "group") and found again when it answers NOT_COORDINATOR or is loading.
public sealed partial class KafkaClient
{
    private const sbyte GroupKeyType = 0;

    /// <summary>The broker coordinating <paramref name="groupId"/>, at the address it advertises.</summary>
    public async Task<BrokerInfo> FindCoordinatorAsync(string groupId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await BootstrapAsync(cancellationToken).ConfigureAwait(false);
            var version = connection.VersionFor(ApiKey.FindCoordinator);
            // v0-3 name one key; v4+ batch them in CoordinatorKeys and answer in Coordinators.
            var request = new FindCoordinatorRequest { Key = groupId, KeyType = GroupKeyType, CoordinatorKeys = [groupId] };
            var response = await connection.SendAsync<FindCoordinatorResponse>(request, version, cancellationToken).ConfigureAwait(false);
            short code;
            string? message;
            BrokerInfo? found = null;
            if (version >= 4)
            {
                var c = response.Coordinators.Find(c => c.Key == groupId)
                    ?? throw new KafkaClientException($"{connection.Address} did not answer FindCoordinator for group '{groupId}'");
                (code, message) = (c.ErrorCode, c.ErrorMessage);
                if (code == 0) found = new BrokerInfo(c.NodeId, c.Host, c.Port);
            }
            else
            {
                (code, message) = (response.ErrorCode, response.ErrorMessage);
                if (code == 0) found = new BrokerInfo(response.NodeId, response.Host, response.Port);
            }
            if (found is not null) return found;
            if (!KafkaErrors.IsCoordinatorError(code) || attempt >= MaxAttempts)
                throw KafkaClientException.FromBroker(code, $"the coordinator of group '{groupId}'", message);
            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="call"/> on the coordinator, finding it again while it answers a coordinator error.</summary>
    private async Task<(short Code, T Result)> OnCoordinatorAsync<T>(string groupId, Func<KafkaClientConnection, Task<(short Code, T Result)>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var coordinator = await FindCoordinatorAsync(groupId, cancellationToken).ConfigureAwait(false);
            var connection = await ConnectionToAsync(coordinator.NodeId, coordinator, cancellationToken).ConfigureAwait(false);
            var (code, result) = await call(connection).ConfigureAwait(false);
            if (!KafkaErrors.IsCoordinatorError(code) || attempt >= MaxAttempts) return (code, result);
            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every group on every broker of the cluster (each broker lists the groups it coordinates), sorted by id.</summary>
    public async Task<IReadOnlyList<GroupListing>> ListGroupsAsync(CancellationToken cancellationToken = default)
    {
        var metadata = await GetMetadataAsync([], false, cancellationToken).ConfigureAwait(false);
        var groups = new Dictionary<string, GroupListing>(StringComparer.Ordinal);
        foreach (var broker in metadata.Brokers)
        {
            var connection = await ConnectionToAsync(broker.NodeId, broker, cancellationToken).ConfigureAwait(false);
            var version = connection.VersionFor(ApiKey.ListGroups);
            var response = await connection.SendAsync<ListGroupsResponse>(new ListGroupsRequest(), version, cancellationToken).ConfigureAwait(false);
            if (response.ErrorCode != 0) throw KafkaClientException.FromBroker(response.ErrorCode, $"ListGroups on {connection.Address}");
            foreach (var g in response.Groups)
                groups[g.GroupId] = new GroupListing(g.GroupId, g.ProtocolType, version >= 4 ? g.GroupState : null);
        }
        return [.. groups.Values.OrderBy(g => g.GroupId, StringComparer.Ordinal)];
    }

    /// <summary>
    /// State, protocol and members of <paramref name="groupId"/>; members' assignments are decoded when the
    /// group speaks the consumer protocol. A group nobody knows comes back in state Dead with no members.
    /// </summary>
    public async Task<GroupDescription> DescribeGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var (code, group) = await OnCoordinatorAsync(groupId, async connection =>
        {
            var request = new DescribeGroupsRequest { Groups = [groupId] };
            var response = await connection.SendAsync<DescribeGroupsResponse>(request, cancellationToken).ConfigureAwait(false);
            var g = response.Groups.Find(g => g.GroupId == groupId)
                ?? throw new KafkaClientException($"{connection.Address} did not answer DescribeGroups for '{groupId}'");
            return (g.ErrorCode, g);
        }, cancellationToken).ConfigureAwait(false);
        // Brokers since KIP-1043 answer GROUP_ID_NOT_FOUND where older ones say Dead.
        if (code == KafkaErrors.GroupIdNotFound) return new GroupDescription(groupId, "Dead", "", "", []);
        if (code != 0) throw KafkaClientException.FromBroker(code, $"group '{groupId}'");

        var members = new List<GroupMemberInfo>(group.Members.Count);
        foreach (var m in group.Members)
        {
            var assignment = new List<(string, IReadOnlyList<int>)>();
            if (group.ProtocolType == ConsumerProtocol.Type && m.MemberAssignment.Length > 0)
            {
                try
                {
                    foreach (var tp in ConsumerProtocol.DecodeAssignment(m.MemberAssignment).AssignedPartitions)
                        assignment.Add((tp.Topic, tp.Partitions));
                }
                catch (KafkaProtocolException) { /* another client's private format: show the member without partitions */ }
            }
            members.Add(new GroupMemberInfo(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, assignment));
        }
        members.Sort((a, b) => string.CompareOrdinal(a.MemberId, b.MemberId));
        return new GroupDescription(group.GroupId, group.GroupState, group.ProtocolType, group.ProtocolData, members);
    }

    /// <summary>
    /// The offsets <paramref name="groupId"/> committed: for the partitions of <paramref name="partitions"/>
    /// (topic → partitions), or every partition it has committed when null. A partition without a
    /// commit has offset -1.
    /// </summary>
    public async Task<IReadOnlyList<CommittedOffset>> FetchCommittedOffsetsAsync(string groupId,
        IReadOnlyDictionary<string, IReadOnlyList<int>>? partitions = null, CancellationToken cancellationToken = default)
    {
        var (code, result) = await OnCoordinatorAsync(groupId, async connection =>
        {
            var version = connection.VersionFor(ApiKey.OffsetFetch);
            if (partitions is null && version < 2)
                throw new KafkaClientException($"{connection.Address} cannot list a group's offsets (needs OffsetFetch v2)");
            // v0-7 name the group and topics at the top; v8+ batch groups. Both are filled; each version writes its own.
            List<OffsetFetchRequest.OffsetFetchRequestTopic>? topics = partitions?.Select(kv =>
                new OffsetFetchRequest.OffsetFetchRequestTopic { Name = kv.Key, PartitionIndexes = [.. kv.Value] }).ToList();
            List<OffsetFetchRequest.OffsetFetchRequestTopics>? groupTopics = partitions?.Select(kv =>
                new OffsetFetchRequest.OffsetFetchRequestTopics { Name = kv.Key, PartitionIndexes = [.. kv.Value] }).ToList();
            var request = new OffsetFetchRequest
            {
                GroupId = groupId,
                Topics = topics,
                Groups = [new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = groupId, Topics = groupTopics }],
            };
            var response = await connection.SendAsync<OffsetFetchResponse>(request, version, cancellationToken).ConfigureAwait(false);
            var offsets = new List<CommittedOffset>();
            short error = 0;
            if (version >= 8)
            {
                var g = response.Groups.Find(g => g.GroupId == groupId)
                    ?? throw new KafkaClientException($"{connection.Address} did not answer OffsetFetch for '{groupId}'");
                error = g.ErrorCode;
                foreach (var t in g.Topics)
                    foreach (var p in t.Partitions)
                    {
                        if (p.ErrorCode != 0 && error == 0) error = p.ErrorCode;
                        offsets.Add(new CommittedOffset(t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata));
                    }
            }
            else
            {
                error = response.ErrorCode;
                foreach (var t in response.Topics)
                    foreach (var p in t.Partitions)
                    {
                        if (p.ErrorCode != 0 && error == 0) error = p.ErrorCode;
                        offsets.Add(new CommittedOffset(t.Name, p.PartitionIndex, p.CommittedOffset, p.Metadata));
                    }
            }
            return (error, offsets);
        }, cancellationToken).ConfigureAwait(false);
        // Unknown partitions come back as -1 (no commit), which is what the caller wants to see.
        if (code == KafkaErrors.UnknownTopicOrPartition || code == KafkaErrors.GroupIdNotFound) code = 0;
        if (code != 0) throw KafkaClientException.FromBroker(code, $"the committed offsets of group '{groupId}'");
        result.Sort((a, b) => a.Topic == b.Topic ? a.Partition.CompareTo(b.Partition) : string.CompareOrdinal(a.Topic, b.Topic));
        return result;
    }

    /// <summary>
    /// Commits <paramref name="offsets"/> (partition → next offset to read) of <paramref name="topic"/> for
    /// <paramref name="groupId"/> as an admin commit: generation -1 and no member, which a broker accepts
    /// only while the group has no members.
    /// </summary>
    public async Task CommitOffsetsAsync(string groupId, string topic, IReadOnlyDictionary<int, long> offsets, CancellationToken cancellationToken = default)
    {
        var (code, _) = await OnCoordinatorAsync(groupId, async connection =>
        {
            var request = BuildCommit(groupId, -1, "", topic, offsets);
            var response = await connection.SendAsync<OffsetCommitResponse>(request, cancellationToken).ConfigureAwait(false);
            return (FirstError(response), 0);
        }, cancellationToken).ConfigureAwait(false);
        if (code == KafkaErrors.UnknownMemberId || code == KafkaErrors.IllegalGeneration || code == KafkaErrors.RebalanceInProgress)
            throw new KafkaClientException($"cannot commit offsets of group '{groupId}': it has active members ({KafkaErrors.Name(code)})", code);
        if (code != 0) throw KafkaClientException.FromBroker(code, $"an offset commit of group '{groupId}'");
    }

    internal static OffsetCommitRequest BuildCommit(string groupId, int generation, string memberId, string topic, IReadOnlyDictionary<int, long> offsets)
    {
        var t = new OffsetCommitRequest.OffsetCommitRequestTopic { Name = topic };
        foreach (var (p, o) in offsets.OrderBy(kv => kv.Key))
            t.Partitions.Add(new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = p, CommittedOffset = o, CommittedMetadata = "" });
        return new OffsetCommitRequest { GroupId = groupId, GenerationIdOrMemberEpoch = generation, MemberId = memberId, RetentionTimeMs = -1, Topics = [t] };
    }

    internal static short FirstError(OffsetCommitResponse response)
    {
        foreach (var t in response.Topics)
            foreach (var p in t.Partitions)
                if (p.ErrorCode != 0) return p.ErrorCode;
        return 0;
    }

    /// <summary>Deletes <paramref name="groupId"/> and its committed offsets; the broker refuses while it has members.</summary>
    public async Task DeleteGroupAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var (code, _) = await OnCoordinatorAsync(groupId, async connection =>
        {
            var response = await connection.SendAsync<DeleteGroupsResponse>(new DeleteGroupsRequest { GroupsNames = [groupId] }, cancellationToken).ConfigureAwait(false);
            var r = response.Results.Find(r => r.GroupId == groupId)
                ?? throw new KafkaClientException($"{connection.Address} did not answer DeleteGroups for '{groupId}'");
            return (r.ErrorCode, 0);
        }, cancellationToken).ConfigureAwait(false);
        if (code == KafkaErrors.GroupIdNotFound) throw new KafkaClientException($"group '{groupId}' does not exist", code);
        if (code == KafkaErrors.NonEmptyGroup) throw new KafkaClientException($"group '{groupId}' has active members; stop its consumers first", code);
        if (code != 0) throw KafkaClientException.FromBroker(code, $"group '{groupId}'");
    }
}
