using EdgeStream.Kafka.Client;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Records;

namespace EdgeStream.Sink;

/// <summary>
/// The produces one worker has in flight to one target partition (at most the producer's window), used
/// under the partition's gate. One connection answers in the order it was written to, so the
/// acknowledgements are taken oldest first and each is applied to the target state as it comes: the
/// state then reads exactly as if the produces had been sent one at a time. A failed acknowledgement
/// throws; what is still in flight is abandoned with the connection, and the worker's retry reads the
/// target to learn what landed.
/// </summary>
internal sealed class ProduceWindow(KafkaClientConnection connection, TopicDescription topic, int partition, TargetPartitionState state,
    SinkProducer producer, RecordBatchBuilder builder, SinkStatus status, int requestTimeoutMs)
{
    private readonly Queue<InFlight> _inFlight = new();

    /// <summary>Writes <paramref name="batch"/> once a slot is free (acknowledging the oldest produce meanwhile).</summary>
    public async Task SendAsync(List<Outgoing> batch, CancellationToken cancellationToken)
    {
        while (_inFlight.Count >= producer.Window) await CompleteOldestAsync(cancellationToken).ConfigureAwait(false);
        builder.Reset();
        builder.ProducerId = producer.Id;
        builder.ProducerEpoch = producer.Epoch;
        builder.BaseSequence = producer.NextSequence(partition, batch.Count);
        var written = new (OriginStream, long)[batch.Count];
        long bytes = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i];
            builder.Add(r.Key, r.Value, r.Timestamp, r.Headers);
            written[i] = (r.Origin, r.OriginOffset);
            bytes += r.Size;
        }
        var request = new ProduceRequest
        {
            // acks=all. No blind retry after an ambiguous failure: the next attempt reads the target first.
            Acks = -1,
            TimeoutMs = requestTimeoutMs,
            TopicData = [new ProduceRequest.TopicProduceData
            {
                Name = topic.Name,
                PartitionData = [new ProduceRequest.PartitionProduceData { Index = partition, Records = builder.Build(CompressionType.Lz4) }],
            }],
        };
        var response = await connection.WriteAsync<ProduceResponse>(request, connection.VersionFor(ApiKey.Produce), cancellationToken).ConfigureAwait(false);
        _inFlight.Enqueue(new InFlight(response, written, bytes));
    }

    /// <summary>Takes every acknowledgement still due.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_inFlight.Count > 0) await CompleteOldestAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// After a failure: the answers still due are not waited for (the connection is dropped next, which
    /// ends them), only observed so their failures do not surface as unobserved task exceptions.
    /// </summary>
    public void Abandon()
    {
        while (_inFlight.TryDequeue(out var f))
            _ = f.Response.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
    }

    private async Task CompleteOldestAsync(CancellationToken cancellationToken)
    {
        var f = _inFlight.Peek();
        var response = await f.Response.WaitAsync(cancellationToken).ConfigureAwait(false);
        _inFlight.Dequeue();
        if (response.Responses is not [{ PartitionResponses: [var p] }] || p.Index != partition)
            throw new SinkException($"'{topic.Name}' partition {partition}: the external cluster answered a produce without the partition");
        // Any error, retriable or not: the produces after this one are refused too (idempotent) or not
        // sent yet (window of one), and the retry reads the target before writing again.
        if (p.ErrorCode != 0) throw KafkaClientException.FromBroker(p.ErrorCode, $"'{topic.Name}' partition {partition}", p.ErrorMessage);
        state.ApplyOwn(p.BaseOffset, f.Written);
        status.Sent(f.Written.Length, f.Bytes);
    }

    private readonly record struct InFlight(Task<ProduceResponse> Response, (OriginStream, long)[] Written, long Bytes);
}
