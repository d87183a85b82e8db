using EdgeStream.Kafka.Fetch;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    private const int FinalEpoch = -1;
    private const int InitialEpoch = 0;
    private const sbyte ReadCommitted = 1;

    // Fetch: whole stored batches, served as they are on disk. Long-poll: when fewer than
    // min.bytes are ready, wait until any fetched partition's high watermark passes its fetch
    // offset or max.wait.ms runs out. Fetch sessions (KIP-227, v7+): epoch 0 opens one (a full
    // request and response), then each incremental request names only the partitions whose
    // position changed (and those to forget), and the response only partitions with records,
    // an error, or a new high watermark or log start.
    private async ValueTask<KafkaResponse?> HandleFetchAsync(KafkaRequestContext context, FetchRequest request)
    {
        var (session, incremental, error) = OpenFetchSession(context.Version, request);
        if (error != KafkaErrorCode.None)
            return new KafkaResponse(new FetchResponse { ErrorCode = (short)error, SessionId = 0 });
        var plan = session is null ? RequestPartitions(context.Version, request) : null;
        var readCommitted = request.IsolationLevel == ReadCommitted;
        var deadline = Environment.TickCount64 + Math.Max(0, request.MaxWaitMs);
        while (true)
        {
            var resources = new List<IDisposable>();
            FetchRead read;
            if (session is null)
            {
                read = ReadFetch(context, plan!, request.MaxBytes, incremental: false, resources, readCommitted);
            }
            else
            {
                lock (session.Gate) read = ReadFetch(context, SessionPartitions(session), request.MaxBytes, incremental, resources, readCommitted);
            }
            var remaining = deadline - Environment.TickCount64;
            if (read.Bytes >= Math.Max(1, request.MinBytes) || remaining <= 0 || read.WaitOn.Count == 0 || context.ConnectionClosed.IsCancellationRequested)
            {
                read.Response.SessionId = session?.Id ?? 0;
                if (session is not null)
                {
                    lock (session.Gate) read.Commit(session);
                }
                return new KafkaResponse(read.Response, resources);
            }
            foreach (var r in resources) r.Dispose();

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(remaining));
            var delay = Task.Delay(Timeout.Infinite, timeout.Token);
            read.WaitOn.Add(delay);
            await Task.WhenAny(read.WaitOn).ConfigureAwait(false);
            if (delay.IsCompleted) deadline = 0; // timed out: one last read, then answer
        }
    }

    /// <summary>
    /// Applies the request's session fields as Kafka's fetch manager does: epoch -1 closes the named
    /// session and fetches without one; epoch 0 closes it and opens a new one (none when the cache
    /// has no slots: the client then gets session id 0 and keeps sending full requests); a positive
    /// epoch must name a live session at exactly its next epoch.
    /// </summary>
    private (FetchSession? Session, bool Incremental, KafkaErrorCode Error) OpenFetchSession(short version, FetchRequest request)
    {
        if (request.SessionEpoch is FinalEpoch or InitialEpoch)
        {
            if (request.SessionId != 0) FetchSessions.Close(request.SessionId);
            if (request.SessionEpoch == FinalEpoch) return (null, false, KafkaErrorCode.None);
            var created = FetchSessions.Create();
            if (created is null) return (null, false, KafkaErrorCode.None);
            lock (created.Gate) ApplyToSession(version, request, created);
            return (created, false, KafkaErrorCode.None);
        }
        var session = FetchSessions.Get(request.SessionId);
        if (session is null) return (null, false, KafkaErrorCode.FetchSessionIdNotFound);
        lock (session.Gate)
        {
            if (request.SessionEpoch != session.NextEpoch) return (null, false, KafkaErrorCode.InvalidFetchSessionEpoch);
            session.NextEpoch = session.NextEpoch == int.MaxValue ? 1 : session.NextEpoch + 1;
            ApplyToSession(version, request, session);
        }
        return (session, true, KafkaErrorCode.None);
    }

    private static void ApplyToSession(short version, FetchRequest request, FetchSession session)
    {
        var byId = version >= 13;
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                session.Upsert(Key(byId, topic.TopicId, topic.Topic, p.Partition), p.FetchOffset, p.PartitionMaxBytes);
        foreach (var forgotten in request.ForgottenTopicsData)
            foreach (var partition in forgotten.Partitions)
                session.Forget(Key(byId, forgotten.TopicId, forgotten.Topic, partition));
    }

    private static FetchSessionKey Key(bool byId, Guid topicId, string topic, int partition) =>
        byId ? new FetchSessionKey(topicId, "", partition) : new FetchSessionKey(Guid.Empty, topic, partition);

    private static List<FetchItem> RequestPartitions(short version, FetchRequest request)
    {
        var byId = version >= 13;
        var items = new List<FetchItem>();
        foreach (var topic in request.Topics)
            foreach (var p in topic.Partitions)
                items.Add(new FetchItem(Key(byId, topic.TopicId, topic.Topic, p.Partition), p.FetchOffset, p.PartitionMaxBytes, null));
        return items;
    }

    private static List<FetchItem> SessionPartitions(FetchSession session)
    {
        var items = new List<FetchItem>(session.Partitions.Count);
        foreach (var p in session.Partitions) items.Add(new FetchItem(p.Key, p.FetchOffset, p.MaxBytes, p));
        return items;
    }

    // read_committed (isolation level 1): data only below the last stable offset, with the aborted
    // transactions that overlap it, so the client can drop their records; the response's
    // LastStableOffset is then the LSO. read_uncommitted never builds the transaction index.
    // A topic the principal may not Read is TOPIC_AUTHORIZATION_FAILED, and the others are served.
    private FetchRead ReadFetch(KafkaRequestContext context, List<FetchItem> items, int requestMaxBytes, bool incremental, List<IDisposable> resources, bool readCommitted)
    {
        var version = context.Version;
        var read = new FetchRead(new FetchResponse());
        var topics = new Dictionary<(Guid, string), FetchResponse.FetchableTopicResponse>();
        long total = 0;
        var maxBytes = requestMaxBytes <= 0 ? int.MaxValue : requestMaxBytes;
        var byId = version >= 13;
        foreach (var item in items)
        {
            var key = item.Key;
            var data = new FetchResponse.PartitionData
            {
                PartitionIndex = key.Partition,
                HighWatermark = -1,
                LastStableOffset = -1,
                LogStartOffset = -1,
                AbortedTransactions = [],
                PreferredReadReplica = -1,
                // Empty, not null, on errors too: librdkafka rejects a null record set (size -1) as a
                // parse failure and so never sees OFFSET_OUT_OF_RANGE or resets to the log start.
                Records = ReadOnlyMemory<byte>.Empty,
            };
            // From v13 topics are named by id only; an id we do not know is UNKNOWN_TOPIC_ID.
            var name = byId ? Catalog.NameOf(key.TopicId) : key.Topic;
            TopicLog? topic = null;
            if (name is not null) Catalog.TryGet(name, out topic);
            if (topic is not null && !Authorized(context, AclOperation.Read, AclResourceType.Topic, topic.Name))
            {
                data.ErrorCode = (short)KafkaErrorCode.TopicAuthorizationFailed;
            }
            else if (topic is null || !topic.TryGetPartition(key.Partition, out var partition))
            {
                data.ErrorCode = (short)(byId && topic is null ? KafkaErrorCode.UnknownTopicId : KafkaErrorCode.UnknownTopicOrPartition);
            }
            else
            {
                data.HighWatermark = data.LastStableOffset = partition!.HighWatermark;
                data.LogStartOffset = partition.LogStartOffset;
                // KIP-74: the first batch is returned even when it is larger than the limits.
                var budget = (int)Math.Min(item.MaxBytes, Math.Max(0, maxBytes - total));
                if (budget > 0 || total == 0)
                {
                    try
                    {
                        var stable = readCommitted ? partition.LastStableOffset : long.MaxValue;
                        var records = partition.Read(item.FetchOffset, Math.Max(budget, 1), stable);
                        resources.Add(records);
                        data.HighWatermark = data.LastStableOffset = records.HighWatermark;
                        data.LogStartOffset = records.LogStartOffset;
                        data.Records = records.Memory;
                        total += records.Length;
                        if (readCommitted)
                        {
                            data.LastStableOffset = Math.Min(stable, records.HighWatermark);
                            if (!records.IsEmpty && partition.HasAbortedTransactions) data.AbortedTransactions = AbortedIn(partition, item.FetchOffset, data.LastStableOffset);
                        }
                        // Held back by an open transaction: only a marker (or more data) moves the high watermark past where it is now.
                        if (records.IsEmpty) read.WaitOn.Add(partition.WhenHighWatermarkAbove(Math.Max(item.FetchOffset, readCommitted ? records.HighWatermark : item.FetchOffset)));
                    }
                    catch (OffsetOutOfRangeException)
                    {
                        data.ErrorCode = (short)KafkaErrorCode.OffsetOutOfRange;
                    }
                }
            }
            var hasRecords = data.Records is { Length: > 0 };
            if (item.Session is { } sessionPartition)
            {
                // Incremental: only what the client does not know yet.
                if (incremental && data.ErrorCode == 0 && !hasRecords
                    && data.HighWatermark == sessionPartition.SentHighWatermark && data.LogStartOffset == sessionPartition.SentLogStartOffset)
                    continue;
                read.Sent.Add((sessionPartition, data.HighWatermark, data.LogStartOffset, hasRecords));
            }
            var topicKey = (key.TopicId, key.Topic);
            if (!topics.TryGetValue(topicKey, out var topicResponse))
            {
                // From v13 the name is not on the wire (ids only), but metrics count what went out per topic name.
                topicResponse = new FetchResponse.FetchableTopicResponse { Topic = byId ? name ?? "" : key.Topic, TopicId = key.TopicId };
                topics[topicKey] = topicResponse;
                read.Response.Responses.Add(topicResponse);
            }
            topicResponse.Partitions.Add(data);
        }
        read.Bytes = total;
        return read;
    }

    private static List<FetchResponse.AbortedTransaction> AbortedIn(PartitionLog partition, long from, long to)
    {
        var aborted = new List<Storage.Transactions.AbortedTransaction>();
        partition.CollectAbortedTransactions(from, to, aborted);
        var list = new List<FetchResponse.AbortedTransaction>(aborted.Count);
        foreach (var a in aborted) list.Add(new FetchResponse.AbortedTransaction { ProducerId = a.ProducerId, FirstOffset = a.FirstOffset });
        return list;
    }

    /// <summary>A partition to read: from the request, or from a session (which then records what was sent).</summary>
    private readonly record struct FetchItem(FetchSessionKey Key, long FetchOffset, int MaxBytes, FetchSessionPartition? Session);

    /// <summary>One pass over the partitions: the response, its record bytes, what to wait on, and what a session must remember once it is sent.</summary>
    private sealed class FetchRead(FetchResponse response)
    {
        public FetchResponse Response { get; } = response;
        public long Bytes { get; set; }
        public List<Task> WaitOn { get; } = [];
        public List<(FetchSessionPartition Partition, long HighWatermark, long LogStartOffset, bool Records)> Sent { get; } = [];

        public void Commit(FetchSession session)
        {
            HashSet<FetchSessionPartition>? served = null;
            foreach (var (partition, highWatermark, logStart, records) in Sent)
            {
                partition.SentHighWatermark = highWatermark;
                partition.SentLogStartOffset = logStart;
                if (records) (served ??= []).Add(partition);
            }
            if (served is not null) session.Rotate(served);
        }
    }
}
