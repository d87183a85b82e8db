using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Edge;

/// <summary>
/// What an edge adds to the node every role runs (<see cref="RoleHost"/>): it forwards its log to its
/// parents. It accepts no uplinks (the configuration rejects <c>--uplink</c> on an edge). Mesh discovery
/// and the choice of parent land here.
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

    public void Configure(RoleBuilder edge)
    {
        // Without --parent an edge keeps its data local.
        if (edge.Options.Parents.Count > 0) edge.ForwardToParents();
    }
}
