using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // InitProducerId: a fresh id for an idempotent producer; for a transactional id, the
    // coordinator's id with the next epoch (fencing older instances, aborting their open
    // transaction); a producer asking to bump its own epoch (KIP-360) gets epoch + 1.
    // PRODUCER_FENCED exists from v4 (KIP-588); older versions get INVALID_PRODUCER_EPOCH.
    // With ACLs: Write on the transactional id; an idempotent producer needs IdempotentWrite on the
    // cluster or, as Kafka 3 accepts, Write on some topic.
    private async ValueTask<KafkaResponse?> HandleInitProducerIdAsync(KafkaRequestContext context, InitProducerIdRequest request)
    {
        if (request.TransactionalId is { Length: > 0 } transactionalId)
        {
            if (!Authorized(context, AclOperation.Write, AclResourceType.TransactionalId, transactionalId))
                return new KafkaResponse(new InitProducerIdResponse { ErrorCode = (short)KafkaErrorCode.TransactionalIdAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 });
            var producerId = context.Version >= 3 ? request.ProducerId : -1;
            var epoch = context.Version >= 3 ? request.ProducerEpoch : (short)-1;
            try
            {
                var (error, id, newEpoch) = await Transactions.InitProducerAsync(transactionalId, request.TransactionTimeoutMs, producerId, epoch, context.ConnectionClosed).ConfigureAwait(false);
                if (error == KafkaErrorCode.ProducerFenced && context.Version < 4) error = KafkaErrorCode.InvalidProducerEpoch;
                return new KafkaResponse(new InitProducerIdResponse { ErrorCode = (short)error, ProducerId = id, ProducerEpoch = newEpoch });
            }
            catch (Exception ex) when (ex is EdgeStreamException or IOException)
            {
                return new KafkaResponse(new InitProducerIdResponse { ErrorCode = (short)ErrorFor(ex), ProducerId = -1, ProducerEpoch = -1 });
            }
        }
        if (!Authorized(context, AclOperation.IdempotentWrite, AclResourceType.Cluster, AclBinding.ClusterName, audit: false)
            && !AuthorizedOnAny(context, AclOperation.Write, AclResourceType.Topic))
            return new KafkaResponse(new InitProducerIdResponse { ErrorCode = (short)KafkaErrorCode.ClusterAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 });
        if (request.ProducerId >= 0 && request.ProducerEpoch >= 0 && request.ProducerEpoch < short.MaxValue - 1)
            return new KafkaResponse(new InitProducerIdResponse { ProducerId = request.ProducerId, ProducerEpoch = (short)(request.ProducerEpoch + 1) });
        return new KafkaResponse(new InitProducerIdResponse { ProducerId = ProducerIds.Allocate(), ProducerEpoch = 0 });
    }
}
