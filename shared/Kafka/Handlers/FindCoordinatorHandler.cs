using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // FindCoordinator: a single node coordinates every group (key type 0) and every
    // transactional id (key type 1), so the answer is always this node. v0-v3 carry one key;
    // v4+ (KIP-699) batch them in coordinatorKeys and answer one Coordinator each. Any other key
    // type is INVALID_REQUEST, as Kafka answers it. With ACLs, as Kafka: Describe on the group
    // (GROUP_AUTHORIZATION_FAILED) or the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
    // per key; a refused key gets no coordinator, so its name does not even tell where it lives.
    private FindCoordinatorResponse HandleFindCoordinator(KafkaRequestContext context, FindCoordinatorRequest request)
    {
        var (host, port) = AdvertisedEndpoint(context.LocalEndPoint);
        var keyType = context.Version >= 1 ? request.KeyType : (sbyte)0;
        var response = new FindCoordinatorResponse();
        if (context.Version >= 4)
        {
            foreach (var key in request.CoordinatorKeys)
            {
                var (error, message) = CoordinatorRefusal(context, keyType, key);
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
        var (topError, topMessage) = CoordinatorRefusal(context, keyType, request.Key);
        response.ErrorCode = (short)topError;
        response.ErrorMessage = topMessage;
        response.NodeId = topError == KafkaErrorCode.None ? Options.BrokerId : -1;
        response.Host = topError == KafkaErrorCode.None ? host : "";
        response.Port = topError == KafkaErrorCode.None ? port : -1;
        return response;
    }

    /// <summary>Why the coordinator of <paramref name="key"/> is not named: an unknown key type or a refusal; None when it is.</summary>
    private (KafkaErrorCode Error, string? Message) CoordinatorRefusal(KafkaRequestContext context, sbyte keyType, string key) => keyType switch
    {
        0 when !Authorized(context, AclOperation.Describe, AclResourceType.Group, key) =>
            (KafkaErrorCode.GroupAuthorizationFailed, $"Describe on group '{key}' is needed."),
        1 when !Authorized(context, AclOperation.Describe, AclResourceType.TransactionalId, key) =>
            (KafkaErrorCode.TransactionalIdAuthorizationFailed, $"Describe on transactional id '{key}' is needed."),
        0 or 1 => (KafkaErrorCode.None, null),
        _ => (KafkaErrorCode.InvalidRequest, $"Key type {keyType} is not supported: use 0 (group) or 1 (transaction)."),
    };
}
