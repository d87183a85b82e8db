using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Security.Acls;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // CreateAcls (KIP-140): one result per creation, in request order. Needs Alter on the cluster;
    // without an authorizer (--authorizer off) SECURITY_DISABLED, as Kafka answers with none configured.
    private CreateAclsResponse HandleCreateAcls(KafkaRequestContext context, CreateAclsRequest request)
    {
        var response = new CreateAclsResponse();
        var refusal = AclAdministrationRefusal(context, AclOperation.Alter);
        var valid = new List<AclBinding>();
        foreach (var creation in request.Creations)
        {
            var result = new CreateAclsResponse.AclCreationResult { ErrorMessage = null };
            response.Results.Add(result);
            var binding = new AclBinding((AclResourceType)creation.ResourceType, creation.ResourceName, (AclPatternType)creation.ResourcePatternType,
                creation.Principal, creation.Host, (AclOperation)creation.Operation, (AclPermission)creation.PermissionType);
            if (refusal is { } r) (result.ErrorCode, result.ErrorMessage) = ((short)r.Code, r.Message);
            else if (binding.Problem() is { } problem) (result.ErrorCode, result.ErrorMessage) = ((short)KafkaErrorCode.InvalidRequest, problem);
            else valid.Add(binding);
        }
        if (valid.Count > 0) Authorizer!.Add(valid);
        return response;
    }

    /// <summary>Why the connection may not administer ACLs (<paramref name="operation"/> on the cluster), or null when it may.</summary>
    private (KafkaErrorCode Code, string Message)? AclAdministrationRefusal(KafkaRequestContext context, AclOperation operation)
    {
        if (Authorizer is not { Enabled: true }) return (KafkaErrorCode.SecurityDisabled, "no authorizer is configured on the broker (--authorizer on)");
        if (!AuthorizedOnCluster(context, operation)) return (KafkaErrorCode.ClusterAuthorizationFailed, $"{operation} on the cluster is needed");
        return null;
    }
}
