using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ListTransactions (KIP-664): every transactional id, filtered by state names, producer ids and
    // (v1, KIP-994) a minimum running time in ms. Unknown state names are echoed back. Ids the
    // principal may not Describe are left out, as Kafka does.
    private ListTransactionsResponse HandleListTransactions(KafkaRequestContext context, ListTransactionsRequest request)
    {
        var response = new ListTransactionsResponse();
        var states = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in request.StateFilters)
        {
            if (Enum.TryParse<EdgeStream.Kafka.Transactions.TransactionState>(s, out _)) states.Add(s);
            else response.UnknownStateFilters.Add(s);
        }
        var producers = new HashSet<long>(request.ProducerIdFilters);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var t in Transactions.List())
        {
            var state = t.State.ToString();
            if (request.StateFilters.Count > 0 && !states.Contains(state)) continue;
            if (producers.Count > 0 && !producers.Contains(t.ProducerId)) continue;
            if (context.Version >= 1 && request.DurationFilter >= 0 && (t.StartTimeMs < 0 || now - t.StartTimeMs < request.DurationFilter)) continue;
            if (!Authorized(context, AclOperation.Describe, AclResourceType.TransactionalId, t.TransactionalId, audit: false)) continue;
            response.TransactionStates.Add(new ListTransactionsResponse.TransactionState { TransactionalId = t.TransactionalId, ProducerId = t.ProducerId, TransactionStateValue = state });
        }
        return response;
    }
}
