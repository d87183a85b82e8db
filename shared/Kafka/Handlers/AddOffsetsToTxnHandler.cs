using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AddOffsetsToTxn: the group's offsets (sent next with TxnOffsetCommit) commit with the transaction.
    // With ACLs: Write on the transactional id, Read on the group.
    private async ValueTask<KafkaResponse?> HandleAddOffsetsToTxnAsync(KafkaRequestContext context, AddOffsetsToTxnRequest request)
    {
        var fenced = FencedCode(context.Version, 2);
        if (TransactionRefusal(context, request.TransactionalId, request.GroupId) is { } refused)
            return new KafkaResponse(new AddOffsetsToTxnResponse { ErrorCode = (short)refused });
        var error = await CoordinatorCallAsync(() => Transactions.AddGroupAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.GroupId, fenced, context.ConnectionClosed)).ConfigureAwait(false);
        return new KafkaResponse(new AddOffsetsToTxnResponse { ErrorCode = (short)error });
    }
}
