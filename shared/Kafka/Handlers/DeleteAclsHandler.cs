using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DeleteAcls (KIP-140): per filter, the bindings it removed. Needs Alter on the cluster.
    private DeleteAclsResponse HandleDeleteAcls(KafkaRequestContext context, DeleteAclsRequest request)
    {
        var response = new DeleteAclsResponse();
        var refusal = AclAdministrationRefusal(context, AclOperation.Alter);
        var filters = new List<AclBindingFilter>();
        var results = new List<DeleteAclsResponse.DeleteAclsFilterResult>();
        foreach (var f in request.Filters)
        {
            var result = new DeleteAclsResponse.DeleteAclsFilterResult { ErrorMessage = null };
            response.FilterResults.Add(result);
            var filter = new AclBindingFilter((AclResourceType)f.ResourceTypeFilter, f.ResourceNameFilter, (AclPatternType)f.PatternTypeFilter,
                f.PrincipalFilter, f.HostFilter, (AclOperation)f.Operation, (AclPermission)f.PermissionType);
            if (refusal is { } r) (result.ErrorCode, result.ErrorMessage) = ((short)r.Code, r.Message);
            else if (filter.Problem() is { } problem) (result.ErrorCode, result.ErrorMessage) = ((short)KafkaErrorCode.InvalidRequest, problem);
            else
            {
                filters.Add(filter);
                results.Add(result);
            }
        }
        if (filters.Count == 0) return response;
        var removed = Authorizer!.Remove(filters);
        for (var i = 0; i < results.Count; i++)
        {
            foreach (var b in removed[i])
            {
                results[i].MatchingAcls.Add(new()
                {
                    ErrorMessage = null, ResourceType = (sbyte)b.ResourceType, ResourceName = b.ResourceName, PatternType = (sbyte)b.PatternType,
                    Principal = b.Principal, Host = b.Host, Operation = (sbyte)b.Operation, PermissionType = (sbyte)b.Permission,
                });
            }
        }
        return response;
    }
}
