using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // InitProducerId: a fresh id for an idempotent producer; for a transactional id, the same id
    // with the next epoch; a producer asking to bump its own epoch (KIP-360) gets epoch + 1.
    private InitProducerIdResponse HandleInitProducerId(KafkaRequestContext context, InitProducerIdRequest request)
    {
        if (request.TransactionalId is { Length: > 0 } transactionalId)
        {
            var (id, epoch) = ProducerIds.ForTransactionalId(transactionalId);
            return new InitProducerIdResponse { ProducerId = id, ProducerEpoch = epoch };
        }
        if (request.ProducerId >= 0 && request.ProducerEpoch >= 0 && request.ProducerEpoch < short.MaxValue - 1)
            return new InitProducerIdResponse { ProducerId = request.ProducerId, ProducerEpoch = (short)(request.ProducerEpoch + 1) };
        return new InitProducerIdResponse { ProducerId = ProducerIds.Allocate(), ProducerEpoch = 0 };
    }
}
