using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Client;

/// <summary>Settings of a <see cref="GroupMember"/>.</summary>
public sealed class GroupMemberOptions
{
    /// <summary>How long the coordinator keeps a member that stops heartbeating. Default 10 s (brokers allow 6 s to 30 min).</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a rebalance waits for members to rejoin; JoinGroup may block this long. Default 30 s.</summary>
    public TimeSpan RebalanceTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a member heartbeats, and so how fast it notices a rebalance. Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Membership of one consumer in a classic-protocol group subscribed to one topic: JoinGroup (rejoining
/// with the id the broker hands out on MEMBER_ID_REQUIRED), SyncGroup (as leader, Kafka's range assignor
/// over every topic the members subscribe to), a heartbeat loop that raises <see cref="RejoinNeeded"/>
/// when the group rebalances, offset commits for the current generation, and LeaveGroup.
/// The heartbeat loop and the caller share one coordinator connection (its requests are serialized);
/// metadata goes through the <see cref="KafkaClient"/>, which only the caller's thread uses.
/// </summary>
public sealed class GroupMember : IAsyncDisposable
{
    private readonly KafkaClient _client;
    private readonly GroupMemberOptions _options;
    private KafkaClientConnection? _coordinator;
    private CancellationTokenSource? _heartbeatStop;
    private Task? _heartbeat;
    private volatile bool _rejoinNeeded = true;
    private volatile KafkaClientException? _heartbeatFailure;

    public GroupMember(KafkaClient client, string groupId, string topic, GroupMemberOptions? options = null)
    {
        _client = client;
        GroupId = groupId;
        Topic = topic;
        _options = options ?? new GroupMemberOptions();
    }

    public string GroupId { get; }
    public string Topic { get; }
    public string MemberId { get; private set; } = "";
    public int GenerationId { get; private set; } = -1;

    /// <summary>The partitions of <see cref="Topic"/> assigned in the current generation, sorted.</summary>
    public IReadOnlyList<int> Assignment { get; private set; } = [];

    /// <summary>Set when a heartbeat or commit learns the group is rebalancing (or this member was dropped): call <see cref="JoinAsync"/>.</summary>
    public bool RejoinNeeded => _rejoinNeeded;

    /// <summary>Joins (or rejoins) the group and returns once this member has its assignment for a new generation.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken = default)
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        _heartbeatFailure = null;
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 50) throw new KafkaClientException($"could not join group '{GroupId}' after {attempt - 1} attempts");
            var coordinator = await CoordinatorAsync(cancellationToken).ConfigureAwait(false);
            var join = new JoinGroupRequest
            {
                GroupId = GroupId,
                SessionTimeoutMs = (int)_options.SessionTimeout.TotalMilliseconds,
                RebalanceTimeoutMs = (int)_options.RebalanceTimeout.TotalMilliseconds,
                MemberId = MemberId,
                GroupInstanceId = null,
                ProtocolType = ConsumerProtocol.Type,
                Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = RangeAssignor.Name, Metadata = ConsumerProtocol.EncodeSubscription([Topic]) }],
            };
            // The coordinator holds JoinGroup until every member rejoined or the rebalance timed out.
            var joined = await coordinator.SendAsync<JoinGroupResponse>(join, cancellationToken, extraWait: _options.RebalanceTimeout).ConfigureAwait(false);
            if (await RetryAfterAsync(joined.ErrorCode, joined.MemberId, attempt, cancellationToken).ConfigureAwait(false)) continue;
            if (joined.ErrorCode != 0) throw KafkaClientException.FromBroker(joined.ErrorCode, $"joining group '{GroupId}'");
            MemberId = joined.MemberId;
            GenerationId = joined.GenerationId;

            var sync = new SyncGroupRequest
            {
                GroupId = GroupId,
                GenerationId = joined.GenerationId,
                MemberId = MemberId,
                ProtocolType = ConsumerProtocol.Type,
                ProtocolName = joined.ProtocolName ?? RangeAssignor.Name,
            };
            if (joined.Leader == MemberId && !joined.SkipAssignment)
                sync.Assignments = await AssignAsync(joined.Members, cancellationToken).ConfigureAwait(false);
            var synced = await coordinator.SendAsync<SyncGroupResponse>(sync, cancellationToken, extraWait: _options.RebalanceTimeout).ConfigureAwait(false);
            if (await RetryAfterAsync(synced.ErrorCode, null, attempt, cancellationToken).ConfigureAwait(false)) continue;
            if (synced.ErrorCode != 0) throw KafkaClientException.FromBroker(synced.ErrorCode, $"syncing group '{GroupId}'");

            ConsumerProtocolAssignment assignment;
            try { assignment = ConsumerProtocol.DecodeAssignment(synced.Assignment); }
            catch (KafkaProtocolException ex)
            {
                throw new KafkaClientException($"group '{GroupId}': the leader sent an assignment that does not decode: {ex.Message}", ex);
            }
            var mine = new SortedSet<int>();
            foreach (var tp in assignment.AssignedPartitions)
                if (tp.Topic == Topic) mine.UnionWith(tp.Partitions);
            Assignment = [.. mine];
            _rejoinNeeded = false;
            StartHeartbeat();
            return;
        }
    }

    /// <summary>
    /// Decides whether a JoinGroup/SyncGroup error means "try again": MEMBER_ID_REQUIRED (KIP-394: join
    /// again with the id given), UNKNOWN_MEMBER_ID (join as new), ILLEGAL_GENERATION or
    /// REBALANCE_IN_PROGRESS (join again), or the coordinator moved (find it again).
    /// </summary>
    private async Task<bool> RetryAfterAsync(short code, string? givenMemberId, int attempt, CancellationToken cancellationToken)
    {
        switch (code)
        {
            case KafkaErrors.MemberIdRequired:
            MemberId = givenMemberId ?? "";
            return true;
            case KafkaErrors.UnknownMemberId:
            MemberId = "";
            return true;
            case KafkaErrors.IllegalGeneration or KafkaErrors.RebalanceInProgress:
            return true;
            case KafkaErrors.CoordinatorLoadInProgress or KafkaErrors.CoordinatorNotAvailable or KafkaErrors.NotCoordinator:
            await DropCoordinatorAsync().ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 1000)), cancellationToken).ConfigureAwait(false);
            return true;
            default:
            return false;
        }
    }

    /// <summary>The leader's job: range-assign every subscribed topic's partitions over the members.</summary>
    private async Task<List<SyncGroupRequest.SyncGroupRequestAssignment>> AssignAsync(List<JoinGroupResponse.JoinGroupResponseMember> members, CancellationToken cancellationToken)
    {
        var subscriptions = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal);
        var topics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            IReadOnlyCollection<string> subscribed;
            try { subscribed = ConsumerProtocol.DecodeSubscription(m.Metadata).Topics; }
            catch (KafkaProtocolException) { subscribed = []; }
            subscriptions[m.MemberId] = subscribed;
            topics.UnionWith(subscribed);
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (topics.Count > 0)
        {
            var metadata = await _client.GetMetadataAsync(topics, false, cancellationToken).ConfigureAwait(false);
            foreach (var t in metadata.Topics)
            if (t.ErrorCode == 0) counts[t.Name] = t.PartitionCount;
        }
        var plan = RangeAssignor.Assign(subscriptions, counts);
        var result = new List<SyncGroupRequest.SyncGroupRequestAssignment>(plan.Count);
        foreach (var (member, partitions) in plan)
            result.Add(new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = member, Assignment = ConsumerProtocol.EncodeAssignment(partitions) });
        return result;
    }

    /// <summary>
    /// Commits <paramref name="offsets"/> (partition → next offset to read) for the current generation.
    /// Returns false when the group moved on (rebalance, this member dropped): the commit did not count,
    /// <see cref="RejoinNeeded"/> is set, and the records since the last commit will be read again.
    /// </summary>
    public async Task<bool> CommitAsync(IReadOnlyDictionary<int, long> offsets, CancellationToken cancellationToken = default)
    {
        ThrowIfHeartbeatFailed();
        if (offsets.Count == 0) return true;
        var coordinator = await CoordinatorAsync(cancellationToken).ConfigureAwait(false);
        var request = KafkaClient.BuildCommit(GroupId, GenerationId, MemberId, Topic, offsets);
        var response = await coordinator.SendAsync<OffsetCommitResponse>(request, cancellationToken).ConfigureAwait(false);
        var code = KafkaClient.FirstError(response);
        switch (code)
        {
            case 0:
                return true;
            case KafkaErrors.RebalanceInProgress or KafkaErrors.IllegalGeneration:
                _rejoinNeeded = true;
                return false;
            case KafkaErrors.UnknownMemberId:
                MemberId = "";
                _rejoinNeeded = true;
                return false;
            case KafkaErrors.CoordinatorLoadInProgress or KafkaErrors.CoordinatorNotAvailable or KafkaErrors.NotCoordinator:
                // The coordinator moved: the membership is the new coordinator's to confirm, so rejoin there.
                await DropCoordinatorAsync().ConfigureAwait(false);
                _rejoinNeeded = true;
                return false;
                default:
                    throw KafkaClientException.FromBroker(code, $"an offset commit of group '{GroupId}'");
        }
    }

    /// <summary>The offsets this group committed for <paramref name="partitions"/>; -1 where there is none.</summary>
    public async Task<IReadOnlyDictionary<int, long>> FetchCommittedAsync(IReadOnlyList<int> partitions, CancellationToken cancellationToken = default)
    {
        var committed = await _client.FetchCommittedOffsetsAsync(GroupId, new Dictionary<string, IReadOnlyList<int>> { [Topic] = partitions }, cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<int, long>();
        foreach (var p in partitions) result[p] = -1;
        foreach (var c in committed)
            if (c.Topic == Topic && result.ContainsKey(c.Partition)) result[c.Partition] = c.Offset;
        return result;
    }

    /// <summary>
    /// Where each assigned partition starts: the group's committed offset, else <paramref name="otherwise"/>
    /// (<see cref="OffsetSpec.Earliest"/> or <see cref="OffsetSpec.Latest"/>) of the log.
    /// </summary>
    public async Task<Dictionary<int, long>> StartPositionsAsync(TopicDescription topic, long otherwise, CancellationToken cancellationToken = default)
    {
        var positions = new Dictionary<int, long>();
        if (Assignment.Count == 0) return positions;
        var missing = new List<int>();
        foreach (var (p, offset) in await FetchCommittedAsync(Assignment, cancellationToken).ConfigureAwait(false))
        {
            if (offset >= 0) positions[p] = offset;
            else missing.Add(p);
        }
        if (missing.Count > 0)
            foreach (var (p, o) in await _client.ListOffsetsAsync(topic, missing, otherwise, cancellationToken).ConfigureAwait(false))
                positions[p] = o;
        return positions;
    }

    /// <summary>Throws what stopped the heartbeat loop, if it was an error no rejoin can fix.</summary>
    public void ThrowIfHeartbeatFailed()
    {
        if (_heartbeatFailure is { } failure) throw failure;
    }

    /// <summary>Leaves the group so the others rebalance at once instead of after the session timeout. Errors are ignored.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        if (MemberId.Length == 0 || _coordinator is not { IsUsable: true } coordinator) return;
        try
        {
            // v0-2 name one member; v3+ (KIP-345) a list.
            var request = new LeaveGroupRequest { GroupId = GroupId, MemberId = MemberId, Members = [new LeaveGroupRequest.MemberIdentity { MemberId = MemberId }] };
            await coordinator.SendAsync<LeaveGroupResponse>(request, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaClientException) { /* the session timeout removes us anyway */ }
        catch (OperationCanceledException) { }
        MemberId = "";
        GenerationId = -1;
        Assignment = [];
    }

    private void StartHeartbeat()
    {
        var stop = new CancellationTokenSource();
        _heartbeatStop = stop;
        var generation = GenerationId;
        var member = MemberId;
        _heartbeat = Task.Run(() => HeartbeatLoopAsync(generation, member, stop.Token));
    }

    private async Task HeartbeatLoopAsync(int generation, string memberId, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.HeartbeatInterval, cancellationToken).ConfigureAwait(false);
                var coordinator = _coordinator;
                if (coordinator is not { IsUsable: true })
                {
                    _rejoinNeeded = true;
                    return;
                }
                var request = new HeartbeatRequest { GroupId = GroupId, GenerationId = generation, MemberId = memberId };
                var response = await coordinator.SendAsync<HeartbeatResponse>(request, cancellationToken).ConfigureAwait(false);
                switch (response.ErrorCode)
                {
                    case 0:
                        continue;
                    case KafkaErrors.RebalanceInProgress or KafkaErrors.IllegalGeneration or KafkaErrors.UnknownMemberId
                        or KafkaErrors.CoordinatorLoadInProgress or KafkaErrors.CoordinatorNotAvailable or KafkaErrors.NotCoordinator:
                        // The caller rejoins (finding the coordinator again if need be) at its next poll.
                        _rejoinNeeded = true;
                        return;
                    default:
                        _heartbeatFailure = KafkaClientException.FromBroker(response.ErrorCode, $"a heartbeat to group '{GroupId}'");
                        return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { }
        catch (KafkaClientException)
        {
            // The connection broke: rejoining opens a new one.
            _rejoinNeeded = true;
        }
    }

    private async Task StopHeartbeatAsync()
    {
        if (_heartbeatStop is null) return;
        await _heartbeatStop.CancelAsync().ConfigureAwait(false);
        try { await _heartbeat!.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _heartbeatStop.Dispose();
        _heartbeatStop = null;
        _heartbeat = null;
    }

    private async Task<KafkaClientConnection> CoordinatorAsync(CancellationToken cancellationToken)
    {
        if (_coordinator is { IsUsable: true } existing) return existing;
        await DropCoordinatorAsync().ConfigureAwait(false);
        var broker = await _client.FindCoordinatorAsync(GroupId, cancellationToken).ConfigureAwait(false);
        try
        {
            _coordinator = await KafkaClientConnection.ConnectAsync(broker.Address, _client.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaClientException ex)
        {
            throw new KafkaClientException($"{ex.Message} (the coordinator of group '{GroupId}', broker {broker.NodeId})", ex);
        }
        return _coordinator;
    }

    private async Task DropCoordinatorAsync()
    {
        if (_coordinator is null) return;
        // The heartbeat loop may hold it: stop that first, the caller restarts it after joining.
        await StopHeartbeatAsync().ConfigureAwait(false);
        await _coordinator.DisposeAsync().ConfigureAwait(false);
        _coordinator = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopHeartbeatAsync().ConfigureAwait(false);
        if (_coordinator is not null) await _coordinator.DisposeAsync().ConfigureAwait(false);
        _coordinator = null;
    }
}
