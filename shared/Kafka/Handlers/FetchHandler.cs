using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // Fetch: whole stored batches, served as they are on disk. Long-poll: when fewer than
    // min.bytes are ready, wait until any requested partition's high watermark passes its fetch
    // offset or max.wait.ms runs out. Sessions (KIP-227) are not kept: session id 0 tells the
    // client to send full requests, which every client supports.
    private async ValueTask<KafkaResponse?> HandleFetchAsync(KafkaRequestContext context, FetchRequest request)
    {
        var deadline = Environment.TickCount64 + Math.Max(0, request.MaxWaitMs);
        while (true)
        {
            var resources = new List<IDisposable>();
            var (response, bytes, waitOn) = ReadFetch(context.Version, request, resources);
            var remaining = deadline - Environment.TickCount64;
            if (bytes >= Math.Max(1, request.MinBytes) || remaining <= 0 || waitOn.Count == 0 || context.ConnectionClosed.IsCancellationRequested)
                return new KafkaResponse(response, resources);
            foreach (var r in resources) r.Dispose();

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(remaining));
            var delay = Task.Delay(Timeout.Infinite, timeout.Token);
            waitOn.Add(delay);
            await Task.WhenAny(waitOn).ConfigureAwait(false);
            if (delay.IsCompleted) deadline = 0; // timed out: one last read, then answer
        }
    }

    private (FetchResponse Response, long Bytes, List<Task> WaitOn) ReadFetch(short version, FetchRequest request, List<IDisposable> resources)
    {
        var response = new FetchResponse { SessionId = 0 };
        var waitOn = new List<Task>();
        long total = 0;
        var maxBytes = request.MaxBytes <= 0 ? int.MaxValue : request.MaxBytes;
        foreach (var fetchTopic in request.Topics)
        {
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = fetchTopic.Topic, TopicId = fetchTopic.TopicId };
            response.Responses.Add(topicResponse);
            // From v13 topics are named by id only; an id we do not know is UNKNOWN_TOPIC_ID.
            var byId = version >= 13;
            var name = byId ? Catalog.NameOf(fetchTopic.TopicId) : fetchTopic.Topic;
            // Not on the wire from v13 (ids only), but metrics count what went out per topic name.
            if (byId && name is not null) topicResponse.Topic = name;
            TopicLog? topic = null;
            if (name is not null) Catalog.TryGet(name, out topic);
            foreach (var fetchPartition in fetchTopic.Partitions)
            {
                var data = new FetchResponse.PartitionData
                {
                    PartitionIndex = fetchPartition.Partition,
                    HighWatermark = -1,
                    LastStableOffset = -1,
                    LogStartOffset = -1,
                    AbortedTransactions = [],
                    PreferredReadReplica = -1,
                    // Empty, not null, on errors too: librdkafka rejects a null record set (size -1) as a
                    // parse failure and so never sees OFFSET_OUT_OF_RANGE or resets to the log start.
                    Records = ReadOnlyMemory<byte>.Empty,
                };
                topicResponse.Partitions.Add(data);
                if (topic is null || !topic.TryGetPartition(fetchPartition.Partition, out var partition))
                {
                    data.ErrorCode = (short)(byId && topic is null ? KafkaErrorCode.UnknownTopicId : KafkaErrorCode.UnknownTopicOrPartition);
                    continue;
                }
                data.HighWatermark = data.LastStableOffset = partition!.HighWatermark;
                data.LogStartOffset = partition.LogStartOffset;
                // KIP-74: the first batch is returned even when it is larger than the limits.
                var budget = (int)Math.Min(fetchPartition.PartitionMaxBytes, Math.Max(0, maxBytes - total));
                if (budget <= 0 && total > 0) continue;
                try
                {
                    var read = partition.Read(fetchPartition.FetchOffset, Math.Max(budget, 1));
                    resources.Add(read);
                    data.HighWatermark = data.LastStableOffset = read.HighWatermark;
                    data.LogStartOffset = read.LogStartOffset;
                    data.Records = read.Memory;
                    total += read.Length;
                    if (read.IsEmpty) waitOn.Add(partition.WhenHighWatermarkAbove(fetchPartition.FetchOffset));
                }
                catch (Storage.OffsetOutOfRangeException)
                {
                    data.ErrorCode = (short)KafkaErrorCode.OffsetOutOfRange;
                }
            }
        }
        return (response, total, waitOn);
    }
}
