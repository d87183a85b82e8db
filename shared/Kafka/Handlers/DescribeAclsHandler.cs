using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // DescribeAcls (KIP-140): the bindings the filter matches, grouped by resource pattern. Needs
    // Describe on the cluster.
    private DescribeAclsResponse HandleDescribeAcls(KafkaRequestContext context, DescribeAclsRequest request)
    {
        var response = new DescribeAclsResponse { ErrorMessage = null };
        if (AclAdministrationRefusal(context, AclOperation.Describe) is { } refusal)
        {
            (response.ErrorCode, response.ErrorMessage) = ((short)refusal.Code, refusal.Message);
            return response;
        }
        var filter = new AclBindingFilter((AclResourceType)request.ResourceTypeFilter, request.ResourceNameFilter, (AclPatternType)request.PatternTypeFilter,
            request.PrincipalFilter, request.HostFilter, (AclOperation)request.Operation, (AclPermission)request.PermissionType);
        if (filter.Problem() is { } problem)
        {
            (response.ErrorCode, response.ErrorMessage) = ((short)KafkaErrorCode.InvalidRequest, problem);
            return response;
        }
        var resources = new Dictionary<(AclResourceType, string, AclPatternType), DescribeAclsResponse.DescribeAclsResource>();
        foreach (var b in Authorizer!.Describe(filter))
        {
            if (!resources.TryGetValue((b.ResourceType, b.ResourceName, b.PatternType), out var resource))
            {
                resource = new() { ResourceType = (sbyte)b.ResourceType, ResourceName = b.ResourceName, PatternType = (sbyte)b.PatternType };
                resources[(b.ResourceType, b.ResourceName, b.PatternType)] = resource;
                response.Resources.Add(resource);
            }
            resource.Acls.Add(new() { Principal = b.Principal, Host = b.Host, Operation = (sbyte)b.Operation, PermissionType = (sbyte)b.Permission });
        }
        return response;
    }
}
