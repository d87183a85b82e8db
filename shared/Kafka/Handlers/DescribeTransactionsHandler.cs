using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeTransactions (KIP-664): state, producer, timeout, start time and partitions of each
    // id; an id never seen is TRANSACTIONAL_ID_NOT_FOUND.
    private DescribeTransactionsResponse HandleDescribeTransactions(KafkaRequestContext context, DescribeTransactionsRequest request)
    {
        var response = new DescribeTransactionsResponse();
        foreach (var id in request.TransactionalIds)
        {
            var state = new DescribeTransactionsResponse.TransactionState { TransactionalId = id, TransactionStartTimeMs = -1, ProducerId = -1, ProducerEpoch = -1 };
            response.TransactionStates.Add(state);
            if (Transactions.Describe(id) is not { } t)
            {
                state.ErrorCode = (short)KafkaErrorCode.TransactionalIdNotFound;
                continue;
            }
            state.TransactionStateValue = t.State.ToString();
            state.TransactionTimeoutMs = t.TimeoutMs;
            state.TransactionStartTimeMs = t.StartTimeMs;
            state.ProducerId = t.ProducerId;
            state.ProducerEpoch = t.Epoch;
            foreach (var group in t.Partitions.GroupBy(p => p.Topic, StringComparer.Ordinal))
                state.Topics.Add(new DescribeTransactionsResponse.TopicData { Topic = group.Key, Partitions = [.. group.Select(p => p.Partition)] });
        }
        return response;
    }
}
