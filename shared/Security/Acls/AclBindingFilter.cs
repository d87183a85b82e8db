namespace EdgeStream.Security.Acls;

/// <summary>
/// Which bindings DescribeAcls lists and DeleteAcls removes (Kafka's AclBindingFilter): <c>Any</c>
/// for an enum and null for a string match everything; pattern <see cref="AclPatternType.Match"/>
/// selects the bindings that would apply to the named resource (literal, wildcard and prefixes of it).
/// </summary>
public sealed record AclBindingFilter(AclResourceType ResourceType, string? ResourceName, AclPatternType PatternType,
    string? Principal, string? Host, AclOperation Operation, AclPermission Permission)
{
    /// <summary>Matches every binding.</summary>
    public static AclBindingFilter All { get; } = new(AclResourceType.Any, null, AclPatternType.Any, null, null, AclOperation.Any, AclPermission.Any);

    /// <summary>Why Kafka would refuse this filter (INVALID_REQUEST), or null.</summary>
    public string? Problem()
    {
        if (ResourceType is AclResourceType.Unknown or > AclResourceType.TransactionalId) return "unknown resource type";
        if (PatternType is AclPatternType.Unknown or > AclPatternType.Prefixed) return "unknown pattern type";
        if (Operation is AclOperation.Unknown or > AclOperation.IdempotentWrite) return "unknown operation";
        if (Permission is AclPermission.Unknown or > AclPermission.Allow) return "unknown permission";
        return null;
    }

    public bool Matches(AclBinding b)
    {
        if (ResourceType != AclResourceType.Any && ResourceType != b.ResourceType) return false;
        if (Principal is not null && Principal != b.Principal) return false;
        if (Host is not null && Host != b.Host) return false;
        if (Operation != AclOperation.Any && Operation != b.Operation) return false;
        if (Permission != AclPermission.Any && Permission != b.Permission) return false;
        return PatternType switch
        {
            AclPatternType.Any => ResourceName is null || ResourceName == b.ResourceName,
            AclPatternType.Match => ResourceName is null || b.Covers(ResourceName),
            _ => PatternType == b.PatternType && (ResourceName is null || ResourceName == b.ResourceName),
        };
    }
}
