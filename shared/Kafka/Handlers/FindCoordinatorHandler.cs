using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // FindCoordinator: a single node coordinates every group (key type 0) and every
    // transactional id (key type 1), so the answer is always this node. v0-v3 carry one key;
    // v4+ (KIP-699) batch them in coordinatorKeys and answer one Coordinator each. Any other key
    // type is INVALID_REQUEST, as Kafka answers it.
    private FindCoordinatorResponse HandleFindCoordinator(KafkaRequestContext context, FindCoordinatorRequest request)
    {
        var (host, port) = AdvertisedEndpoint(context.LocalEndPoint);
        var keyType = context.Version >= 1 ? request.KeyType : (sbyte)0;
        var error = keyType is 0 or 1 ? KafkaErrorCode.None : KafkaErrorCode.InvalidRequest;
        var message = error == KafkaErrorCode.None ? null : $"Key type {keyType} is not supported: use 0 (group) or 1 (transaction).";
        var response = new FindCoordinatorResponse();
        if (context.Version >= 4)
        {
            foreach (var key in request.CoordinatorKeys)
            {
                response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
                {
                    Key = key,
                    NodeId = error == KafkaErrorCode.None ? Options.BrokerId : -1,
                    Host = error == KafkaErrorCode.None ? host : "",
                    Port = error == KafkaErrorCode.None ? port : -1,
                    ErrorCode = (short)error,
                    ErrorMessage = message,
                });
            }
            return response;
        }
        response.ErrorCode = (short)error;
        response.ErrorMessage = message;
        response.NodeId = error == KafkaErrorCode.None ? Options.BrokerId : -1;
        response.Host = error == KafkaErrorCode.None ? host : "";
        response.Port = error == KafkaErrorCode.None ? port : -1;
        return response;
    }
}
