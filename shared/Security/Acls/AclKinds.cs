namespace EdgeStream.Security.Acls;

// Kafka's ACL enums (org.apache.kafka.common.resource / .acl), with their wire codes: CreateAcls,
// DescribeAcls and DeleteAcls carry these numbers, and the store keeps them as they are.

/// <summary>What an ACL protects. <see cref="Any"/> only appears in filters.</summary>
public enum AclResourceType : sbyte { Unknown = 0, Any = 1, Topic = 2, Group = 3, Cluster = 4, TransactionalId = 5 }

/// <summary>How an ACL's resource name matches. <see cref="Any"/> and <see cref="Match"/> only appear in filters.</summary>
public enum AclPatternType : sbyte { Unknown = 0, Any = 1, Match = 2, Literal = 3, Prefixed = 4 }

/// <summary>What a principal does to a resource. <see cref="Any"/> only appears in filters.</summary>
public enum AclOperation : sbyte
{
    Unknown = 0, Any = 1, All = 2, Read = 3, Write = 4, Create = 5, Delete = 6, Alter = 7, Describe = 8,
    ClusterAction = 9, DescribeConfigs = 10, AlterConfigs = 11, IdempotentWrite = 12,
}

/// <summary>Whether a matching ACL allows or denies. <see cref="Any"/> only appears in filters.</summary>
public enum AclPermission : sbyte { Unknown = 0, Any = 1, Deny = 2, Allow = 3 }
