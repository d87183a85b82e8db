using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // Heartbeat: keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin.
    private HeartbeatResponse HandleHeartbeat(KafkaRequestContext context, HeartbeatRequest request) => new()
    {
        ErrorCode = (short)(!Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId)
            ? KafkaErrorCode.GroupAuthorizationFailed
            : Groups.Heartbeat(request.GroupId, request.GenerationId, request.MemberId, context.Version >= 3 ? request.GroupInstanceId : null)),
    };
}
