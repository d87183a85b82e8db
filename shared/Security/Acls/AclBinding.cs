using EdgeStream.Metadata;

namespace EdgeStream.Security.Acls;

/// <summary>
/// One ACL, Kafka's model: <paramref name="Principal"/> (<c>User:NAME</c> or <c>User:*</c>) from
/// <paramref name="Host"/> (<c>*</c> or an address) is allowed or denied <paramref name="Operation"/> on
/// the resources of <paramref name="ResourceType"/> named <paramref name="ResourceName"/> (literally, or
/// as a prefix; the literal <c>*</c> is every resource of the type).
/// </summary>
public sealed record AclBinding(AclResourceType ResourceType, string ResourceName, AclPatternType PatternType,
    string Principal, string Host, AclOperation Operation, AclPermission Permission)
{
    /// <summary>The literal name that stands for every resource of a type.</summary>
    public const string Wildcard = "*";

    /// <summary>The only name a cluster resource has in Kafka.</summary>
    public const string ClusterName = "kafka-cluster";

    /// <summary>Why this binding cannot be stored, or null when it can (what Kafka's CreateAcls refuses with INVALID_REQUEST).</summary>
    public string? Problem()
    {
        if (ResourceType is not (AclResourceType.Topic or AclResourceType.Group or AclResourceType.Cluster or AclResourceType.TransactionalId))
            return "resource type must be topic, group, cluster or transactional-id";
        if (PatternType is not (AclPatternType.Literal or AclPatternType.Prefixed)) return "pattern type must be literal or prefixed";
        if (string.IsNullOrEmpty(ResourceName)) return "resource name is empty";
        if (ResourceType == AclResourceType.Cluster && (ResourceName != ClusterName || PatternType != AclPatternType.Literal))
            return $"the cluster resource is the literal '{ClusterName}'";
        if (!Principal.StartsWith("User:", StringComparison.Ordinal) || Principal.Length == 5) return "principal must be User:NAME or User:*";
        if (string.IsNullOrEmpty(Host)) return "host is empty (use * for any)";
        if (Operation is AclOperation.Unknown or AclOperation.Any or > AclOperation.IdempotentWrite) return "unknown operation";
        if (Permission is not (AclPermission.Allow or AclPermission.Deny)) return "permission must be allow or deny";
        return null;
    }

    /// <summary>Whether the binding's pattern covers the resource <paramref name="name"/> of its type.</summary>
    public bool Covers(string name) => PatternType == AclPatternType.Prefixed
        ? name.StartsWith(ResourceName, StringComparison.Ordinal)
        : ResourceName == Wildcard || ResourceName == name;

    public StoredAcl ToStored() => new((sbyte)ResourceType, ResourceName, (sbyte)PatternType, Principal, Host, (sbyte)Operation, (sbyte)Permission);

    public static AclBinding FromStored(StoredAcl a) => new((AclResourceType)a.ResourceType, a.ResourceName, (AclPatternType)a.PatternType,
        a.Principal, a.Host, (AclOperation)a.Operation, (AclPermission)a.Permission);
}
