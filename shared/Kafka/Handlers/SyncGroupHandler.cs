using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // SyncGroup: the leader sends every member's assignment; each member (the leader included)
    // waits until it is there and gets its own bytes, untouched. In Stable a member gets the
    // current assignment at once. v5 echoes protocol type and name (KIP-559).
    private async ValueTask<KafkaResponse?> HandleSyncGroupAsync(KafkaRequestContext context, SyncGroupRequest request)
    {
        if (!Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId))
            return new KafkaResponse(new SyncGroupResponse { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed, Assignment = [] });
        var assignments = new Dictionary<string, byte[]>(request.Assignments.Count, StringComparer.Ordinal);
        foreach (var a in request.Assignments) assignments[a.MemberId] = a.Assignment;
        var result = await Groups.SyncAsync(request.GroupId, request.GenerationId, request.MemberId,
            context.Version >= 3 ? request.GroupInstanceId : null,
            context.Version >= 5 ? request.ProtocolType : null, context.Version >= 5 ? request.ProtocolName : null, assignments).ConfigureAwait(false);
        return new KafkaResponse(new SyncGroupResponse
        {
            ErrorCode = (short)result.Error,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName,
            Assignment = result.Assignment ?? [],
        });
    }
}
