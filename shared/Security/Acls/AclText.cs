namespace EdgeStream.Security.Acls;

/// <summary>
/// The names of the ACL enums as people write them (<c>edgestream acls</c>, log lines): lower case
/// with '-' between words, e.g. <c>idempotent-write</c>, <c>transactional-id</c>; parsing also takes
/// Kafka's spellings (<c>IdempotentWrite</c>, <c>IDEMPOTENT_WRITE</c>).
/// </summary>
public static class AclText
{
    public static string Name(AclOperation operation) => Kebab(operation.ToString());
    public static string Name(AclResourceType type) => Kebab(type.ToString());
    public static string Name(AclPatternType pattern) => Kebab(pattern.ToString());
    public static string Name(AclPermission permission) => Kebab(permission.ToString());

    /// <summary>The operation named <paramref name="text"/> (not <c>any</c> or <c>unknown</c>), or null.</summary>
    public static AclOperation? ParseOperation(string text)
    {
        var wanted = Squash(text);
        foreach (var op in Enum.GetValues<AclOperation>())
            if (op is not (AclOperation.Unknown or AclOperation.Any) && Squash(op.ToString()) == wanted) return op;
        return null;
    }

    /// <summary>One line for a binding: <c>allow User:alice from * write on topic literal 'orders'</c>.</summary>
    public static string Describe(AclBinding b) =>
        $"{Name(b.Permission)} {b.Principal} from {b.Host} {Name(b.Operation)} on {Name(b.ResourceType)} {Name(b.PatternType)} '{b.ResourceName}'";

    private static string Squash(string s) => s.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string Kebab(string pascal)
    {
        var sb = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}
