using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeTransactions (KIP-664): state, producer, timeout, start time and partitions of each
    // id; an id never seen is TRANSACTIONAL_ID_NOT_FOUND. With ACLs, as Kafka: Describe on the
    // transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), checked before the id is looked up so
    // a refusal does not tell whether it exists; partitions of topics the principal may not Describe
    // are left out of the answer.
    private DescribeTransactionsResponse HandleDescribeTransactions(KafkaRequestContext context, DescribeTransactionsRequest request)
    {
        var response = new DescribeTransactionsResponse();
        foreach (var id in request.TransactionalIds)
        {
            var state = new DescribeTransactionsResponse.TransactionState { TransactionalId = id, TransactionStartTimeMs = -1, ProducerId = -1, ProducerEpoch = -1 };
            response.TransactionStates.Add(state);
            if (!Authorized(context, AclOperation.Describe, AclResourceType.TransactionalId, id))
            {
                state.ErrorCode = (short)KafkaErrorCode.TransactionalIdAuthorizationFailed;
                continue;
            }
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
                if (Authorized(context, AclOperation.Describe, AclResourceType.Topic, group.Key, audit: false))
                    state.Topics.Add(new DescribeTransactionsResponse.TopicData { Topic = group.Key, Partitions = [.. group.Select(p => p.Partition)] });
        }
        return response;
    }
}
