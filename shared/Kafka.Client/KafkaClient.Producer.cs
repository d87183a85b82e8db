using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Client;

/// <summary>What a pipelined, idempotent producer needs from the client: a producer id and the leader's connection.</summary>
public sealed partial class KafkaClient
{
    /// <summary>
    /// A new idempotent producer id and epoch (InitProducerId without a transactional id, KIP-98): batches
    /// stamped with it and per-partition sequence numbers from 0 are written once however often they are
    /// resent on the same id.
    /// </summary>
    public async Task<(long ProducerId, short Epoch)> InitProducerIdAsync(CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await BootstrapAsync(cancellationToken).ConfigureAwait(false);
            var request = new InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = -1, ProducerId = -1, ProducerEpoch = -1 };
            var response = await connection.SendAsync<InitProducerIdResponse>(request, cancellationToken).ConfigureAwait(false);
            if (response.ErrorCode == 0) return (response.ProducerId, response.ProducerEpoch);
            if (!KafkaErrors.IsRetriable(response.ErrorCode) && !KafkaErrors.IsCoordinatorError(response.ErrorCode) || attempt >= MaxAttempts)
                throw KafkaClientException.FromBroker(response.ErrorCode, "a producer id");
            await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The connection to the leader of <paramref name="partition"/>, for pipelined requests
    /// (<see cref="KafkaClientConnection.WriteAsync{TResponse}"/>). Shared with the client's own requests.
    /// </summary>
    public async Task<KafkaClientConnection> LeaderConnectionAsync(TopicDescription topic, int partition, CancellationToken cancellationToken = default)
    {
        if (partition < 0 || partition >= topic.Partitions.Count)
            throw new KafkaClientException($"topic '{topic.Name}' has no partition {partition} (it has {topic.Partitions.Count})");
        return await NodeAsync(topic.Partitions[partition].LeaderId, cancellationToken).ConfigureAwait(false);
    }
}
