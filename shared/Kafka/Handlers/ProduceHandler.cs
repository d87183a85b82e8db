using System.Runtime.InteropServices;
using EdgeStream.Kafka.Producers;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;
using EdgeStream.Records;
using EdgeStream.Storage;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // Produce: every partition's batch is appended in arrival order (the synchronous part of
    // AppendAsync writes it), then all are awaited together, so one request costs about one
    // group fsync per partition. acks=0 sends no response at all; acks=1 and acks=all both
    // answer once the data is durable under the node's fsync policy (one replica: the same thing).
    // With ACLs: Write on the topic (TOPIC_AUTHORIZATION_FAILED), Write on the transactional id of a
    // transactional producer (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), Create for an auto-created topic.
    private async ValueTask<KafkaResponse?> HandleProduceAsync(KafkaRequestContext context, ProduceRequest request)
    {
        var response = new ProduceResponse();
        if (request.Acks is not (0 or 1 or -1))
        {
            foreach (var topic in request.TopicData)
            {
                var t = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
                foreach (var p in topic.PartitionData)
                    t.PartitionResponses.Add(PartitionError(p.Index, KafkaErrorCode.InvalidRequiredAcks, $"acks must be 0, 1 or -1, not {request.Acks}"));
                response.Responses.Add(t);
            }
            return new KafkaResponse(response);
        }

        if (request.TransactionalId is { } transactionalId && !Authorized(context, AclOperation.Write, AclResourceType.TransactionalId, transactionalId))
        {
            foreach (var topic in request.TopicData)
            {
                var t = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
                foreach (var p in topic.PartitionData)
                    t.PartitionResponses.Add(PartitionError(p.Index, KafkaErrorCode.TransactionalIdAuthorizationFailed, "Write on the transactional id is needed"));
                response.Responses.Add(t);
            }
            return new KafkaResponse(response);
        }

        var pending = new List<(ProduceResponse.PartitionProduceResponse Result, PartitionLog Log, ValueTask<AppendResult> Append)>();
        foreach (var topicData in request.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = topicData.Name };
            response.Responses.Add(topicResponse);
            TopicLog? topic = null;
            var topicError = KafkaErrorCode.None;
            if (!LogManager.IsValidTopicName(topicData.Name)) topicError = KafkaErrorCode.InvalidTopicException;
            else if (!Authorized(context, AclOperation.Write, AclResourceType.Topic, topicData.Name)) topicError = KafkaErrorCode.TopicAuthorizationFailed;
            else if (!Catalog.TryGet(topicData.Name, out topic) && !MayCreateTopic(context, topicData.Name)) topicError = KafkaErrorCode.UnknownTopicOrPartition;
            else
            {
                try { topic ??= Catalog.GetOrAutoCreate(topicData.Name); }
                catch (Exception ex) when (ex is StorageException or ConfigurationException) { topicError = ErrorFor(ex); }
                if (topic is null && topicError == KafkaErrorCode.None) topicError = KafkaErrorCode.UnknownTopicOrPartition;
            }
            foreach (var partitionData in topicData.PartitionData)
            {
                var result = new ProduceResponse.PartitionProduceResponse { Index = partitionData.Index, BaseOffset = -1, LogAppendTimeMs = -1, LogStartOffset = -1 };
                topicResponse.PartitionResponses.Add(result);
                if (topicError != KafkaErrorCode.None) { result.ErrorCode = (short)topicError; continue; }
                if (!topic!.TryGetPartition(partitionData.Index, out var partition)) { result.ErrorCode = (short)KafkaErrorCode.UnknownTopicOrPartition; continue; }
                if (partitionData.Records is not { Length: > 0 } records) { result.ErrorCode = (short)KafkaErrorCode.CorruptMessage; continue; }
                // The codec copied the records out of the socket buffer: this request owns them and
                // the log may write offsets into them in place.
                var owned = MemoryMarshal.TryGetArray(records, out var segment)
                    ? segment.Array.AsMemory(segment.Offset, segment.Count)
                    : records.ToArray();
                if (TransactionalBatchError(owned.Span, topicData.Name, partitionData.Index) is { } refused)
                {
                    result.ErrorCode = (short)refused;
                    continue;
                }
                try
                {
                    pending.Add((result, partition!, Producers.AppendAsync(partition!, owned, context.ConnectionClosed)));
                }
                catch (Exception ex) when (ex is EdgeStreamException)
                {
                    Fail(result, ex);
                }
            }
        }

        foreach (var (result, log, append) in pending)
        {
            try
            {
                var appended = await append.ConfigureAwait(false);
                result.BaseOffset = appended.BaseOffset;
                result.LogAppendTimeMs = appended.LogAppendTime;
                result.LogStartOffset = log.LogStartOffset;
            }
            catch (Exception ex) when (ex is EdgeStreamException)
            {
                Fail(result, ex);
            }
        }
        return request.Acks == 0 ? null : new KafkaResponse(response);
    }

    /// <summary>
    /// Markers are the coordinator's to write, never a client's. A transactional batch must come
    /// from the producer's current epoch, inside an open transaction that added this partition.
    /// </summary>
    private KafkaErrorCode? TransactionalBatchError(ReadOnlySpan<byte> batches, string topic, int partition)
    {
        if (!RecordBatchHeader.TryRead(batches, out var header) || (header.Attributes & 0x30) == 0) return null;
        if (header.IsControl) return KafkaErrorCode.InvalidRecord;
        var error = Transactions.CheckProduce(header.ProducerId, header.ProducerEpoch, topic, partition);
        return error == KafkaErrorCode.None ? null : error;
    }

    private static void Fail(ProduceResponse.PartitionProduceResponse result, Exception ex)
    {
        result.ErrorCode = (short)(ex is ProducerFencedException fenced ? fenced.Code : ErrorFor(ex));
        result.ErrorMessage = ex.Message;
    }

    private static ProduceResponse.PartitionProduceResponse PartitionError(int partition, KafkaErrorCode code, string message) =>
        new() { Index = partition, ErrorCode = (short)code, ErrorMessage = message, BaseOffset = -1, LogAppendTimeMs = -1, LogStartOffset = -1 };
}
