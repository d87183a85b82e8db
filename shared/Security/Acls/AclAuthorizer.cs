using EdgeStream.Metadata;

namespace EdgeStream.Security.Acls;

/// <summary>
/// Decides whether a principal may do an operation on a resource, as Kafka's AclAuthorizer does:
/// super users may do anything; otherwise a matching DENY wins, then a matching ALLOW is needed (no
/// ACL means denied). Read, Write, Delete and Alter imply Describe; AlterConfigs implies
/// DescribeConfigs. When <see cref="Enabled"/> is false (the default, <c>--authorizer off</c>)
/// everyone may do everything. The bindings are read from the <see cref="AclStore"/> once and again
/// after each change made through this class, so a check never touches the database.
/// </summary>
public sealed class AclAuthorizer
{
    /// <summary>Kafka's principal for a client that did not authenticate.</summary>
    public const string AnonymousPrincipal = "User:ANONYMOUS";

    private readonly AclStore _store;
    private readonly HashSet<string> _superUsers;
    private readonly Lock _writeLock = new();
    private volatile AclBinding[] _bindings;

    public AclAuthorizer(AclStore store, bool enabled, IReadOnlyList<string> superUsers, AuthorizationAudit audit)
    {
        _store = store;
        Enabled = enabled;
        _superUsers = new HashSet<string>(superUsers, StringComparer.Ordinal);
        Audit = audit;
        _bindings = enabled ? Load(store) : [];
    }

    /// <summary>Whether ACLs are enforced (<c>--authorizer on</c>).</summary>
    public bool Enabled { get; }
    public AuthorizationAudit Audit { get; }

    public bool IsSuperUser(string? principal) => principal is not null && _superUsers.Contains(principal);

    /// <summary>
    /// Whether <paramref name="principal"/> (null: anonymous) connecting from <paramref name="host"/>
    /// may do <paramref name="operation"/> on the resource. Does not audit: callers that refuse call <see cref="AuthorizationAudit.Denied"/>.
    /// </summary>
    public bool Authorize(string? principal, string? host, AclOperation operation, AclResourceType type, string name)
    {
        if (!Enabled || IsSuperUser(principal)) return true;
        principal ??= AnonymousPrincipal;
        var allowed = false;
        foreach (var b in _bindings)
        {
            if (b.ResourceType != type || !AppliesTo(b, principal, host) || !b.Covers(name)) continue;
            if (b.Permission == AclPermission.Deny)
            {
                if (b.Operation == operation || b.Operation == AclOperation.All) return false;
            }
            else if (!allowed && Implies(b.Operation, operation))
            {
                allowed = true;
            }
        }
        return allowed;
    }

    /// <summary>
    /// Whether some ALLOW for <paramref name="operation"/> on a resource of <paramref name="type"/>
    /// applies to the principal and no DENY on every such resource (literal <c>*</c>) does: Kafka 3's
    /// check that lets a producer with Write on any topic be idempotent without IdempotentWrite on the cluster.
    /// </summary>
    public bool AuthorizeAny(string? principal, string? host, AclOperation operation, AclResourceType type)
    {
        if (!Enabled || IsSuperUser(principal)) return true;
        principal ??= AnonymousPrincipal;
        var allowed = false;
        foreach (var b in _bindings)
        {
            if (b.ResourceType != type || !AppliesTo(b, principal, host)) continue;
            if (b.Permission == AclPermission.Deny)
            {
                if ((b.Operation == operation || b.Operation == AclOperation.All) && b.PatternType == AclPatternType.Literal && b.ResourceName == AclBinding.Wildcard)
                    return false;
            }
            else if (Implies(b.Operation, operation))
            {
                allowed = true;
            }
        }
        return allowed;
    }

    /// <summary>The bindings <paramref name="filter"/> matches.</summary>
    public IReadOnlyList<AclBinding> Describe(AclBindingFilter filter)
    {
        var list = new List<AclBinding>();
        foreach (var b in Current()) if (filter.Matches(b)) list.Add(b);
        return list;
    }

    /// <summary>Stores the bindings (each already checked with <see cref="AclBinding.Problem"/>).</summary>
    public void Add(IReadOnlyList<AclBinding> bindings)
    {
        var stored = new List<StoredAcl>(bindings.Count);
        foreach (var b in bindings) stored.Add(b.ToStored());
        lock (_writeLock)
        {
            _store.Add(stored);
            Reload();
        }
    }

    /// <summary>Removes every binding one of <paramref name="filters"/> matches; per filter, the bindings it removed.</summary>
    public IReadOnlyList<IReadOnlyList<AclBinding>> Remove(IReadOnlyList<AclBindingFilter> filters)
    {
        lock (_writeLock)
        {
            var current = Load(_store);
            var results = new List<IReadOnlyList<AclBinding>>(filters.Count);
            var removed = new HashSet<AclBinding>();
            foreach (var filter in filters)
            {
                var matched = new List<AclBinding>();
                foreach (var b in current) if (filter.Matches(b)) { matched.Add(b); removed.Add(b); }
                results.Add(matched);
            }
            var stored = new List<StoredAcl>(removed.Count);
            foreach (var b in removed) stored.Add(b.ToStored());
            _store.Remove(stored);
            Reload();
            return results;
        }
    }

    // Disabled, the cache stays empty (a node without ACLs never reads them), so listing reads the store.
    private AclBinding[] Current() => Enabled ? _bindings : Load(_store);

    private void Reload()
    {
        if (Enabled) _bindings = Load(_store);
    }

    private static AclBinding[] Load(AclStore store)
    {
        var stored = store.List();
        var bindings = new AclBinding[stored.Count];
        for (var i = 0; i < bindings.Length; i++) bindings[i] = AclBinding.FromStored(stored[i]);
        return bindings;
    }

    private static bool AppliesTo(AclBinding b, string principal, string? host) =>
        (b.Principal == principal || b.Principal == "User:*")
        && (b.Host == AclBinding.Wildcard || (host is not null && b.Host == host));

    /// <summary>Whether an ALLOW of <paramref name="granted"/> allows <paramref name="wanted"/> (AclAuthorizer's implied operations).</summary>
    private static bool Implies(AclOperation granted, AclOperation wanted) =>
        granted == wanted || granted == AclOperation.All
        || (wanted == AclOperation.Describe && granted is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter)
        || (wanted == AclOperation.DescribeConfigs && granted == AclOperation.AlterConfigs);
}
