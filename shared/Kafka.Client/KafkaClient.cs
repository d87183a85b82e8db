using EdgeStream.Kafka.Protocol;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// A small Kafka client on our own codec: metadata, topic administration, produce, list offsets and
/// fetch, with standard semantics only so it works against any Kafka-compatible broker. It keeps a
/// connection to the bootstrap broker and opens one to each partition leader it needs, at the
/// address Metadata advertises. Not thread-safe: one caller at a time.
/// </summary>
public sealed partial class KafkaClient : IAsyncDisposable
{
    private const sbyte TopicResourceType = 2;
    private const int MaxAttempts = 5;

    private readonly KafkaClientOptions _options;
    private readonly Dictionary<int, KafkaClientConnection> _nodes = [];
    private KafkaClientConnection _bootstrap;
    private Dictionary<int, BrokerInfo> _brokers = [];
    private int _controllerId = -1;

    private KafkaClient(KafkaClientConnection bootstrap, KafkaClientOptions options)
    {
        _bootstrap = bootstrap;
        _options = options;
    }

    public BrokerAddress Bootstrap => _bootstrap.Address;

    /// <summary>The settings this client and its connections use.</summary>
    public KafkaClientOptions Options => _options;

    /// <summary>Connects to <paramref name="bootstrap"/> (<c>HOST:PORT</c>) and negotiates API versions.</summary>
    public static async Task<KafkaClient> ConnectAsync(string bootstrap, KafkaClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KafkaClientOptions();
        var address = BrokerAddress.Parse(bootstrap);
        var connection = await KafkaClientConnection.ConnectAsync(address, options, cancellationToken).ConfigureAwait(false);
        return new KafkaClient(connection, options);
    }

    // ---- metadata ----

    /// <summary>Metadata of <paramref name="topics"/> (null: every topic). Refreshes the broker list.</summary>
    public async Task<ClusterMetadata> GetMetadataAsync(IReadOnlyCollection<string>? topics, bool allowAutoCreate = false, CancellationToken cancellationToken = default)
    {
        var connection = await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        var request = new MetadataRequest { AllowAutoTopicCreation = allowAutoCreate };
        // v1+: a null list asks for every topic, an empty one for none.
        if (topics is null) request.Topics = null;
        else
        {
            request.Topics = new List<MetadataRequest.MetadataRequestTopic>(topics.Count);
            foreach (var t in topics) request.Topics.Add(new MetadataRequest.MetadataRequestTopic { Name = t });
        }
        var response = await connection.SendAsync<MetadataResponse>(request, cancellationToken).ConfigureAwait(false);

        var brokers = new List<BrokerInfo>(response.Brokers.Count);
        var map = new Dictionary<int, BrokerInfo>(response.Brokers.Count);
        foreach (var b in response.Brokers)
        {
            var info = new BrokerInfo(b.NodeId, b.Host, b.Port);
            brokers.Add(info);
            map[b.NodeId] = info;
        }
        _brokers = map;
        _controllerId = response.ControllerId;

        var result = new List<TopicDescription>(response.Topics.Count);
        foreach (var t in response.Topics)
        {
            var partitions = new List<PartitionMetadata>(t.Partitions.Count);
            foreach (var p in t.Partitions) partitions.Add(new PartitionMetadata(p.PartitionIndex, p.LeaderId, p.ErrorCode));
            partitions.Sort((a, b) => a.Index.CompareTo(b.Index));
            result.Add(new TopicDescription(t.Name ?? "", t.TopicId, t.ErrorCode, t.IsInternal, partitions));
        }
        return new ClusterMetadata(response.ClusterId, response.ControllerId, brokers, result);
    }

    /// <summary>The names of every topic, sorted; internal topics (such as __consumer_offsets) included.</summary>
    public async Task<IReadOnlyList<string>> ListTopicsAsync(CancellationToken cancellationToken = default)
    {
        var metadata = await GetMetadataAsync(null, false, cancellationToken).ConfigureAwait(false);
        var names = new List<string>(metadata.Topics.Count);
        foreach (var t in metadata.Topics)
            if (t.ErrorCode == 0) names.Add(t.Name);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// One topic's metadata; throws "topic 'x' does not exist" when the broker does not know it (and does
    /// not create it). Retries while leaders are being elected.
    /// </summary>
    public async Task<TopicDescription> GetTopicAsync(string topic, bool allowAutoCreate = false, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var metadata = await GetMetadataAsync([topic], allowAutoCreate, cancellationToken).ConfigureAwait(false);
            TopicDescription? found = null;
            foreach (var t in metadata.Topics)
                if (t.Name == topic) found = t;
            var code = found?.ErrorCode ?? KafkaErrors.UnknownTopicOrPartition;
            if (code == KafkaErrors.UnknownTopicOrPartition && !allowAutoCreate)
                throw new KafkaClientException($"topic '{topic}' does not exist", code);
            var leaderless = found is not null && code == 0 && (found.Partitions.Count == 0 || found.Partitions.Any(p => p.LeaderId < 0));
            if (code == 0 && !leaderless) return found!;
            if ((!KafkaErrors.IsRetriable(code) && !leaderless) || attempt >= MaxAttempts)
                throw leaderless
                    ? new KafkaClientException($"topic '{topic}' has partitions without a leader", KafkaErrors.LeaderNotAvailable)
                    : KafkaClientException.FromBroker(code, $"topic '{topic}'");
            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the bootstrap broker answers <paramref name="key"/> at a version this client speaks.</summary>
    public async Task<bool> SupportsAsync(ApiKey key, CancellationToken cancellationToken = default) =>
        (await BootstrapAsync(cancellationToken).ConfigureAwait(false)).Supports(key);

    // ---- administration ----

    /// <summary>
    /// Creates <paramref name="name"/>. <paramref name="partitions"/> and <paramref name="replicationFactor"/>
    /// of -1 take the broker's defaults (CreateTopics v4+; older brokers get 1). Returns the partition count.
    /// </summary>
    public async Task<int> CreateTopicAsync(string name, int partitions = -1, short replicationFactor = -1,
        IReadOnlyList<KeyValuePair<string, string>>? configs = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await ControllerAsync(cancellationToken).ConfigureAwait(false);
            var version = connection.VersionFor(ApiKey.CreateTopics);
            var topic = new CreateTopicsRequest.CreatableTopic
            {
                Name = name,
                NumPartitions = partitions > 0 ? partitions : version >= 4 ? -1 : 1,
                ReplicationFactor = replicationFactor > 0 ? replicationFactor : version >= 4 ? (short)-1 : (short)1,
            };
            if (configs is not null)
                foreach (var (key, value) in configs) topic.Configs.Add(new CreateTopicsRequest.CreatableTopicConfig { Name = key, Value = value });
            var request = new CreateTopicsRequest { Topics = [topic], timeoutMs = (int)_options.RequestTimeout.TotalMilliseconds };
            var response = await connection.SendAsync<CreateTopicsResponse>(request, version, cancellationToken).ConfigureAwait(false);
            var result = response.Topics.Find(t => t.Name == name)
                ?? throw new KafkaClientException($"{connection.Address} did not answer CreateTopics for '{name}'");
            if (result.ErrorCode == KafkaErrors.NotController && attempt < MaxAttempts)
            {
                await GetMetadataAsync([], false, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (result.ErrorCode != 0) throw KafkaClientException.FromBroker(result.ErrorCode, $"'{name}'", result.ErrorMessage);
            return result.NumPartitions > 0 ? result.NumPartitions : topic.NumPartitions;
        }
    }

    public async Task DeleteTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await ControllerAsync(cancellationToken).ConfigureAwait(false);
            // v0-5 name topics in TopicNames, v6 in Topics: fill both, each version writes its own.
            var request = new DeleteTopicsRequest
            {
                TopicNames = [name],
                Topics = [new DeleteTopicsRequest.DeleteTopicState { Name = name }],
                TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds,
            };
            var response = await connection.SendAsync<DeleteTopicsResponse>(request, cancellationToken).ConfigureAwait(false);
            var result = response.Responses.Find(t => t.Name == name)
                ?? throw new KafkaClientException($"{connection.Address} did not answer DeleteTopics for '{name}'");
            if (result.ErrorCode == KafkaErrors.NotController && attempt < MaxAttempts)
            {
                await GetMetadataAsync([], false, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (result.ErrorCode == KafkaErrors.UnknownTopicOrPartition)
                throw new KafkaClientException($"topic '{name}' does not exist", result.ErrorCode);
            if (result.ErrorCode != 0) throw KafkaClientException.FromBroker(result.ErrorCode, $"'{name}'", result.ErrorMessage);
            return;
        }
    }

    /// <summary>Every config of topic <paramref name="name"/>, sorted by name.</summary>
    public async Task<IReadOnlyList<TopicConfigEntry>> DescribeTopicConfigsAsync(string name, CancellationToken cancellationToken = default)
    {
        var connection = await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        var version = connection.VersionFor(ApiKey.DescribeConfigs);
        var request = new DescribeConfigsRequest
        {
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = TopicResourceType, ResourceName = name, ConfigurationKeys = null }],
        };
        var response = await connection.SendAsync<DescribeConfigsResponse>(request, version, cancellationToken).ConfigureAwait(false);
        var result = response.Results.Find(r => r.ResourceName == name)
            ?? throw new KafkaClientException($"{connection.Address} did not answer DescribeConfigs for '{name}'");
        if (result.ErrorCode == KafkaErrors.UnknownTopicOrPartition)
            throw new KafkaClientException($"topic '{name}' does not exist", result.ErrorCode);
        if (result.ErrorCode != 0) throw KafkaClientException.FromBroker(result.ErrorCode, $"the configs of '{name}'", result.ErrorMessage);
        var entries = new List<TopicConfigEntry>(result.Configs.Count);
        foreach (var c in result.Configs)
        {
            // v0 says IsDefault; v1+ give the source, where 1 is DYNAMIC_TOPIC_CONFIG (set on the topic).
            var isOverride = version == 0 ? !c.IsDefaultValue : c.ConfigSource == 1;
            entries.Add(new TopicConfigEntry(c.Name, c.Value, isOverride, c.ReadOnly, c.IsSensitive));
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    // ---- offsets, produce, fetch ----

    /// <summary>
    /// The offset of <paramref name="timestamp"/> in each partition: <see cref="OffsetSpec.Earliest"/> (the log
    /// start), <see cref="OffsetSpec.Latest"/> (the end), or the first offset at or after a time in ms.
    /// </summary>
    public async Task<IReadOnlyDictionary<int, long>> ListOffsetsAsync(TopicDescription topic, IEnumerable<int> partitions, long timestamp, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<int, long>();
        foreach (var (leader, group) in ByLeader(topic, partitions))
        {
            var connection = await NodeAsync(leader, cancellationToken).ConfigureAwait(false);
            var wanted = new ListOffsetsRequest.ListOffsetsTopic { Name = topic.Name };
            foreach (var p in group) wanted.Partitions.Add(new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = p, Timestamp = timestamp });
            var request = new ListOffsetsRequest { ReplicaId = -1, Topics = [wanted], TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds };
            var response = await connection.SendAsync<ListOffsetsResponse>(request, cancellationToken).ConfigureAwait(false);
            foreach (var t in response.Topics)
                foreach (var p in t.Partitions)
                {
                    if (p.ErrorCode != 0) throw KafkaClientException.FromBroker(p.ErrorCode, $"the offsets of '{topic.Name}' partition {p.PartitionIndex}");
                    result[p.PartitionIndex] = p.Offset;
                }
        }
        foreach (var p in partitions)
            if (!result.ContainsKey(p)) throw new KafkaClientException($"no offset returned for '{topic.Name}' partition {p}");
        return result;
    }

    /// <summary>
    /// Sends one record batch per partition (built with <see cref="RecordBatchBuilder"/>) with
    /// <paramref name="acks"/> (-1: all in-sync replicas) and waits for the acknowledgement. Partitions
    /// that fail with a retriable error (leader moved, topic just created) are resent after a metadata
    /// refresh; other errors throw.
    /// </summary>
    public async Task<IReadOnlyList<ProduceResult>> ProduceAsync(TopicDescription topic, IReadOnlyList<(int Partition, ReadOnlyMemory<byte> Batch)> batches,
        short acks = -1, CancellationToken cancellationToken = default)
    {
        var results = new List<ProduceResult>(batches.Count);
        var pending = new List<(int Partition, ReadOnlyMemory<byte> Batch)>(batches);
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            var retry = new List<(int, ReadOnlyMemory<byte>)>();
            foreach (var (leader, group) in ByLeader(topic, pending.Select(b => b.Partition)))
            {
                var connection = await NodeAsync(leader, cancellationToken).ConfigureAwait(false);
                var data = new ProduceRequest.TopicProduceData { Name = topic.Name };
                foreach (var b in pending)
                    if (group.Contains(b.Partition)) data.PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = b.Partition, Records = b.Batch });
                var request = new ProduceRequest { Acks = acks, TimeoutMs = (int)_options.RequestTimeout.TotalMilliseconds, TopicData = [data] };
                var response = await connection.SendAsync<ProduceResponse>(request, cancellationToken).ConfigureAwait(false);
                foreach (var t in response.Responses)
                    foreach (var p in t.PartitionResponses)
                    {
                        if (p.ErrorCode == 0)
                        {
                            results.Add(new ProduceResult(p.Index, p.BaseOffset));
                            continue;
                        }
                        if (!KafkaErrors.IsRetriable(p.ErrorCode) || attempt >= MaxAttempts)
                            throw KafkaClientException.FromBroker(p.ErrorCode, $"'{topic.Name}' partition {p.Index}", p.ErrorMessage);
                        foreach (var b in pending)
                            if (b.Partition == p.Index) retry.Add(b);
                    }
            }
            pending = retry;
            if (pending.Count > 0)
            {
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                topic = await GetTopicAsync(topic.Name, allowAutoCreate: false, cancellationToken).ConfigureAwait(false);
            }
        }
        return results;
    }

    /// <summary>
    /// Fetches from each partition at its offset in <paramref name="offsets"/>, waiting up to
    /// <paramref name="maxWait"/> for data. Records before the asked offset (the head of a compressed
    /// batch) and control records are dropped; a partial batch at the end is left for the next fetch.
    /// </summary>
    public async Task<IReadOnlyList<FetchedPartition>> FetchAsync(TopicDescription topic, IReadOnlyDictionary<int, long> offsets, TimeSpan maxWait,
        int maxBytesPerPartition = 1024 * 1024, CancellationToken cancellationToken = default)
    {
        var groups = ByLeader(topic, offsets.Keys);
        var tasks = new List<Task<List<FetchedPartition>>>(groups.Count);
        foreach (var (leader, group) in groups)
            tasks.Add(FetchFromAsync(leader, topic, group, offsets, maxWait, maxBytesPerPartition, cancellationToken));
        var all = new List<FetchedPartition>();
        foreach (var list in await Task.WhenAll(tasks).ConfigureAwait(false)) all.AddRange(list);
        return all;
    }

    private async Task<List<FetchedPartition>> FetchFromAsync(int leader, TopicDescription topic, List<int> partitions, IReadOnlyDictionary<int, long> offsets,
        TimeSpan maxWait, int maxBytesPerPartition, CancellationToken cancellationToken)
    {
        var connection = await NodeAsync(leader, cancellationToken).ConfigureAwait(false);
        var fetchTopic = new FetchRequest.FetchTopic { Topic = topic.Name, TopicId = topic.TopicId };
        foreach (var p in partitions)
            fetchTopic.Partitions.Add(new FetchRequest.FetchPartition { Partition = p, FetchOffset = offsets[p], PartitionMaxBytes = maxBytesPerPartition });
        var request = new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = (int)Math.Clamp(maxWait.TotalMilliseconds, 0, int.MaxValue),
            MinBytes = 1,
            MaxBytes = 50 * 1024 * 1024,
            IsolationLevel = 0,
            SessionId = 0,
            SessionEpoch = -1, // full fetch, no session (KIP-227)
            Topics = [fetchTopic],
        };
        var response = await connection.SendAsync<FetchResponse>(request, cancellationToken, extraWait: maxWait).ConfigureAwait(false);
        if (response.ErrorCode != 0) throw KafkaClientException.FromBroker(response.ErrorCode, $"a fetch of '{topic.Name}'");
        var result = new List<FetchedPartition>(partitions.Count);
        foreach (var t in response.Responses)
            foreach (var p in t.Partitions)
            {
                var from = offsets.TryGetValue(p.PartitionIndex, out var o) ? o : 0;
                if (p.ErrorCode != 0)
                {
                    result.Add(new FetchedPartition(p.PartitionIndex, p.ErrorCode, p.HighWatermark, p.LogStartOffset, [], from));
                    continue;
                }
                var (records, next) = Decode(topic.Name, p.PartitionIndex, p.Records ?? ReadOnlyMemory<byte>.Empty, from, maxBytesPerPartition);
                result.Add(new FetchedPartition(p.PartitionIndex, 0, p.HighWatermark, p.LogStartOffset, records, next));
            }
        return result;
    }

    private static (List<Record> Records, long NextOffset) Decode(string topic, int partition, ReadOnlyMemory<byte> data, long from, int maxBytes)
    {
        var records = new List<Record>();
        var next = from;
        var position = 0;
        while (position < data.Length)
        {
            var rest = data[position..];
            var size = RecordBatchHeader.PeekTotalSize(rest.Span);
            if (size < 0 || size > rest.Length)
            {
                // A trailing partial batch (the broker cut at max bytes) is fetched again next time. If it is
                // the only one, it can never fit: say so rather than spin.
                if (position == 0 && size > maxBytes)
                    throw new KafkaClientException($"'{topic}' partition {partition}: a record batch of {size} bytes at offset {from} exceeds the fetch limit of {maxBytes}");
                break;
            }
            if (size < RecordBatchHeader.Size || !RecordBatchHeader.TryRead(rest.Span, out var header))
                throw new KafkaClientException($"'{topic}' partition {partition}: corrupt record batch near offset {next}");
            if (header.Magic != RecordBatchHeader.CurrentMagic)
                throw new KafkaClientException($"'{topic}' partition {partition}: record batch magic {header.Magic} at offset {header.BaseOffset} is not supported (v2 only)");
            if (!header.IsControl)
            {
                List<Record> batch;
                try { batch = RecordBatchReader.ReadRecords(rest[..size]); }
                catch (Exception ex) when (ex is CorruptRecordException or KafkaProtocolException or InvalidDataException)
                {
                    throw new KafkaClientException($"'{topic}' partition {partition}: record batch at offset {header.BaseOffset} does not decode: {ex.Message}", ex);
                }
                foreach (var r in batch)
                    if (r.Offset >= from) records.Add(r);
            }
            next = Math.Max(next, header.LastOffset + 1);
            position += size;
        }
        return (records, next);
    }

    // ---- connections ----

    private static List<(int Leader, List<int> Partitions)> ByLeader(TopicDescription topic, IEnumerable<int> partitions)
    {
        var groups = new List<(int, List<int>)>();
        foreach (var p in partitions)
        {
            if (p < 0 || p >= topic.Partitions.Count)
                throw new KafkaClientException($"topic '{topic.Name}' has no partition {p} (it has {topic.Partitions.Count})");
            var leader = topic.Partitions[p].LeaderId;
            var group = groups.Find(g => g.Item1 == leader).Item2;
            if (group is null) groups.Add((leader, [p]));
            else group.Add(p);
        }
        return groups;
    }

    private async Task<KafkaClientConnection> BootstrapAsync(CancellationToken cancellationToken)
    {
        if (!_bootstrap.IsUsable)
        {
            var address = _bootstrap.Address;
            await _bootstrap.DisposeAsync().ConfigureAwait(false);
            _bootstrap = await KafkaClientConnection.ConnectAsync(address, _options, cancellationToken).ConfigureAwait(false);
        }
        return _bootstrap;
    }

    private async Task<KafkaClientConnection> ControllerAsync(CancellationToken cancellationToken)
    {
        if (_brokers.Count == 0) await GetMetadataAsync([], false, cancellationToken).ConfigureAwait(false);
        // KRaft brokers forward admin requests to the controller themselves; older ones need the controller.
        return _brokers.ContainsKey(_controllerId)
            ? await NodeAsync(_controllerId, cancellationToken).ConfigureAwait(false)
            : await BootstrapAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A connection to broker <paramref name="nodeId"/> at its advertised address.</summary>
    private async Task<KafkaClientConnection> NodeAsync(int nodeId, CancellationToken cancellationToken)
    {
        if (nodeId < 0) throw new KafkaClientException("a partition has no leader right now", KafkaErrors.LeaderNotAvailable);
        if (!_brokers.TryGetValue(nodeId, out var broker))
        {
            await GetMetadataAsync([], false, cancellationToken).ConfigureAwait(false);
            if (!_brokers.TryGetValue(nodeId, out broker))
                throw new KafkaClientException($"broker {nodeId} is not in the cluster metadata");
        }
        return await ConnectionToAsync(nodeId, broker, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A connection to <paramref name="broker"/>, shared with every other use of the same node.</summary>
    private async Task<KafkaClientConnection> ConnectionToAsync(int nodeId, BrokerInfo broker, CancellationToken cancellationToken)
    {
        // The bootstrap connection serves its own node: no second socket to the same broker.
        if (string.Equals(broker.Host, _bootstrap.Address.Host, StringComparison.OrdinalIgnoreCase) && broker.Port == _bootstrap.Address.Port)
            return await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        if (_nodes.TryGetValue(nodeId, out var existing))
        {
            if (existing.IsUsable && existing.Address == broker.Address) return existing;
            await existing.DisposeAsync().ConfigureAwait(false);
            _nodes.Remove(nodeId);
        }
        KafkaClientConnection connection;
        try
        {
            connection = await KafkaClientConnection.ConnectAsync(broker.Address, _options, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaClientException ex)
        {
            throw new KafkaClientException($"{ex.Message} (broker {nodeId} as advertised by {_bootstrap.Address}; check the broker's advertised listener)", ex);
        }
        _nodes[nodeId] = connection;
        return connection;
    }

    private static Task BackoffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _nodes.Values) await c.DisposeAsync().ConfigureAwait(false);
        _nodes.Clear();
        await _bootstrap.DisposeAsync().ConfigureAwait(false);
    }
}
