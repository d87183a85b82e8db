using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // AddOffsetsToTxn: the group's offsets (sent next with TxnOffsetCommit) commit with the transaction.
    private async ValueTask<KafkaResponse?> HandleAddOffsetsToTxnAsync(KafkaRequestContext context, AddOffsetsToTxnRequest request)
    {
        var fenced = (short)(context.Version >= 2 ? KafkaErrorCode.ProducerFenced : KafkaErrorCode.InvalidProducerEpoch);
        KafkaErrorCode error;
        try
        {
            error = await Transactions.AddGroupAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.GroupId, fenced, context.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EdgeStreamException or IOException)
        {
            error = ErrorFor(ex);
        }
        return new KafkaResponse(new AddOffsetsToTxnResponse { ErrorCode = (short)error });
    }
}
