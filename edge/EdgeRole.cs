using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Mesh;

namespace EdgeStream.Edge;

/// <summary>
/// What an edge adds to the node every role runs (<see cref="RoleHost"/>): it forwards its log to its
/// parents. It accepts no uplinks (the configuration rejects <c>--uplink</c> on an edge). Its mesh
/// policy: the site scope, and a parent among the site's gateways.
/// </summary>
/// <remarks>
/// A project beside <c>gateway/</c> and <c>cloud/</c> rather than a class in <c>shared/Hosting</c>: the
/// three roles then read alike (one folder each, referencing shared libraries and no other role),
/// <c>shared/Hosting</c> keeps no role's policy, and what only an edge needs (e.g. <c>shared/Mesh</c>)
/// is referenced from here, not from the host every role shares.
/// </remarks>
public sealed class EdgeRole : IRoleModule
{
    public NodeRole Role => NodeRole.Edge;

    /// <summary>
    /// Edges live in their LAN's site scope (found by mDNS, or --seeds) and pick a gateway there, or a
    /// cloud node should one be in the site, never another edge.
    /// </summary>
    public static readonly MeshPolicy Mesh = new()
    {
        Scopes = [MeshPolicy.SiteScope],
        UpperScope = MeshPolicy.SiteScope,
        ParentRoles = ["gateway", "cloud"],
    };

    public void Configure(RoleBuilder edge)
    {
        // With --parent: that list, in order. Without: the parent the mesh chooses; until it names one
        // the sender idles and the data stays here.
        edge.ForwardToParents();
        edge.JoinMesh(Mesh);
    }
}
