using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AddOffsetsToTxn: the group's offsets (sent next with TxnOffsetCommit) commit with the transaction.
    private async ValueTask<KafkaResponse?> HandleAddOffsetsToTxnAsync(KafkaRequestContext context, AddOffsetsToTxnRequest request)
    {
        var fenced = FencedCode(context.Version, 2);
        var error = await CoordinatorCallAsync(() => Transactions.AddGroupAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.GroupId, fenced, context.ConnectionClosed)).ConfigureAwait(false);
        return new KafkaResponse(new AddOffsetsToTxnResponse { ErrorCode = (short)error });
    }
}
