using EdgeStream.Kafka.Groups;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // ListGroups: v4+ filters by state (KIP-518, case-insensitive state names), v5+ by group
    // type (KIP-848): "classic" or "consumer". Groups the principal may not describe are left out.
    private ListGroupsResponse HandleListGroups(KafkaRequestContext context, ListGroupsRequest request)
    {
        var response = new ListGroupsResponse();
        var types = context.Version >= 5 ? request.TypesFilter : [];
        var states = context.Version >= 4 ? request.StatesFilter : [];
        foreach (var g in Groups.ListGroups())
        {
            if (types.Count > 0 && !types.Exists(t => string.Equals(t, g.Type, StringComparison.OrdinalIgnoreCase))) continue;
            var state = g.StateText;
            if (states.Count > 0 && !states.Exists(s => string.Equals(s, state, StringComparison.OrdinalIgnoreCase))) continue;
            // Kafka lists only the groups the principal may Describe (or all, with Describe on the cluster).
            if (!Authorized(context, AclOperation.Describe, AclResourceType.Group, g.GroupId, audit: false)
                && !Authorized(context, AclOperation.Describe, AclResourceType.Cluster, AclBinding.ClusterName, audit: false)) continue;
            response.Groups.Add(new ListGroupsResponse.ListedGroup { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = state, GroupType = g.Type });
        }
        return response;
    }
}
