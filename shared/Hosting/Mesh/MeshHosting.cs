using EdgeStream.Hosting.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeStream.Hosting.Mesh;

/// <summary>
/// A role's mesh policy: which membership scopes its nodes run, which scope <c>--seeds</c> join, and
/// which roles may be its parent. The mechanism (<see cref="MeshService"/>) is the same for every role.
/// </summary>
public sealed record MeshPolicy
{
    /// <summary>The LAN scope of edges and gateways, found by mDNS: <c>site</c>.</summary>
    public const string SiteScope = "site";

    /// <summary>The scope of gateways and the cloud tier, joined by <c>--seeds</c>: <c>upstream</c>.</summary>
    public const string UpstreamScope = "upstream";

    /// <summary>Scopes this node is a member of (one or two). <c>site</c> is the one mDNS feeds.</summary>
    public required IReadOnlyList<string> Scopes { get; init; }

    /// <summary>The node's upper scope: where <c>--seeds</c> join, and where parents are looked for.</summary>
    public required string UpperScope { get; init; }

    /// <summary>Roles that may be this node's parent, best tier first (e.g. <c>[gateway, cloud]</c>); empty: no parent (the cloud).</summary>
    public IReadOnlyList<string> ParentRoles { get; init; } = [];
}

/// <summary>Wires the mesh into a node: gossip membership, mDNS discovery, parent choice, load reports.</summary>
public static class MeshHosting
{
    /// <summary>
    /// Joins the mesh under <paramref name="policy"/>: one gossip port (<c>--gossip</c>, UDP and TCP) shared
    /// by the policy's scopes, mDNS on the site scope (<c>--mdns</c>), <c>--seeds</c> into the upper scope,
    /// and, on a node with a parent role and no <c>--parent</c>, the choice of parent handed to the uplink
    /// sender (<see cref="UplinkHosting.ForwardToParents"/>, registered by the role too). With <c>--parent</c>
    /// the operator's list is kept, and membership only tells the sender early that a listed parent is dead.
    /// Members and the parent appear in <c>/v1/status</c> under <c>mesh</c>.
    /// </summary>
    public static RoleBuilder JoinMesh(this RoleBuilder role, MeshPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Scopes.Count == 0 || !policy.Scopes.Contains(policy.UpperScope))
            throw new InvalidOperationException("a mesh policy names its scopes, and its upper scope among them");
        role.Services.AddSingleton(sp => new MeshService(
            sp.GetRequiredService<AgentOptions>(), sp.GetRequiredService<NodeContext>(), policy, sp,
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>()));
        role.Services.AddHostedService(static sp => sp.GetRequiredService<MeshService>());
        return role;
    }
}
