using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DeleteGroups (KIP-229): only empty groups; a group with members is NON_EMPTY_GROUP and an
    // unknown one GROUP_ID_NOT_FOUND. The group's committed offsets are deleted with it.
    private DeleteGroupsResponse HandleDeleteGroups(KafkaRequestContext context, DeleteGroupsRequest request)
    {
        var response = new DeleteGroupsResponse();
        foreach (var id in request.GroupsNames)
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult
            {
                GroupId = id,
                ErrorCode = (short)(Authorized(context, AclOperation.Delete, AclResourceType.Group, id) ? Groups.DeleteGroup(id) : KafkaErrorCode.GroupAuthorizationFailed),
            });
        return response;
    }
}
