using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // LeaveGroup: v0-v2 name one member and answer with a top-level error; v3+ (KIP-345) batch
    // members by member id and/or group.instance.id with an error each, the top level NONE.
    private LeaveGroupResponse HandleLeaveGroup(KafkaRequestContext context, LeaveGroupRequest request)
    {
        var response = new LeaveGroupResponse();
        if (!Authorized(context, AclOperation.Read, AclResourceType.Group, request.GroupId))
        {
            response.ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed;
            return response;
        }
        if (context.Version < 3)
        {
            var errors = Groups.Leave(request.GroupId, [(request.MemberId, null)]);
            response.ErrorCode = (short)errors[0];
            return response;
        }
        var leaving = new List<(string, string?)>(request.Members.Count);
        foreach (var m in request.Members) leaving.Add((m.MemberId, m.GroupInstanceId));
        var results = Groups.Leave(request.GroupId, leaving);
        for (var i = 0; i < leaving.Count; i++)
        {
            response.Members.Add(new LeaveGroupResponse.MemberResponse
            {
                MemberId = request.Members[i].MemberId,
                GroupInstanceId = request.Members[i].GroupInstanceId,
                ErrorCode = (short)results[i],
            });
        }
        return response;
    }
}
