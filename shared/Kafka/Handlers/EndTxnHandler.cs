using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // EndTxn: answered once the decision is saved and every partition's marker is durable, so a
    // commit the client was told of is never half visible, even after kill -9.
    private async ValueTask<KafkaResponse?> HandleEndTxnAsync(KafkaRequestContext context, EndTxnRequest request)
    {
        var fenced = FencedCode(context.Version, 2);
        if (TransactionRefusal(context, request.TransactionalId, null) is { } refused)
            return new KafkaResponse(new EndTxnResponse { ErrorCode = (short)refused, ProducerId = request.ProducerId, ProducerEpoch = request.ProducerEpoch });
        var error = await CoordinatorCallAsync(() => Transactions.EndTransactionAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.Committed, fenced, context.ConnectionClosed)).ConfigureAwait(false);
        return new KafkaResponse(new EndTxnResponse { ErrorCode = (short)error, ProducerId = request.ProducerId, ProducerEpoch = request.ProducerEpoch });
    }
}
