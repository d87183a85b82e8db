using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeGroups: an unknown group is "Dead" with no error (before v6). Members carry client
    // id and host; their metadata and assignment bytes only in Stable, as Kafka does. A
    // consumer-protocol group shows as protocol type "consumer" with its members' assignments.
    private DescribeGroupsResponse HandleDescribeGroups(KafkaRequestContext context, DescribeGroupsRequest request)
    {
        var response = new DescribeGroupsResponse();
        foreach (var id in request.Groups)
        {
            if (!Authorized(context, AclOperation.Describe, AclResourceType.Group, id))
            {
                response.Groups.Add(new DescribeGroupsResponse.DescribedGroup { ErrorCode = (short)KafkaErrorCode.GroupAuthorizationFailed, GroupId = id, GroupState = "", ProtocolType = "", ProtocolData = "" });
                continue;
            }
            var g = Groups.DescribeGroup(id);
            var described = new DescribeGroupsResponse.DescribedGroup
            {
                ErrorCode = (short)(id.Length == 0 ? KafkaErrorCode.InvalidGroupId : KafkaErrorCode.None),
                GroupId = id,
                GroupState = g.StateText,
                ProtocolType = g.ProtocolType,
                ProtocolData = g.ProtocolName,
            };
            foreach (var m in g.Members)
            {
                described.Members.Add(new DescribeGroupsResponse.DescribedGroupMember
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.InstanceId,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    MemberMetadata = m.Metadata,
                    MemberAssignment = m.Assignment,
                });
            }
            response.Groups.Add(described);
        }
        return response;
    }
}
