using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Mesh;

namespace EdgeStream.Gateway;

/// <summary>
/// What a gateway does that an edge does not: it accepts its children's uplinks and relays them, with
/// its own records, to its parents. The fleet view of its edges lands here. Everything else (the log,
/// Kafka, MQTT, HTTP status) is the node every role runs (<see cref="RoleHost"/>).
/// </summary>
public sealed class GatewayRole : IRoleModule
{
    public NodeRole Role => NodeRole.Gateway;

    /// <summary>
    /// A gateway is in its LAN's site scope (its edges find it there) and in the upstream scope (joined
    /// by --seeds), where it picks a cloud node as its parent.
    /// </summary>
    public static readonly MeshPolicy Mesh = new()
    {
        Scopes = [MeshPolicy.SiteScope, MeshPolicy.UpstreamScope],
        UpperScope = MeshPolicy.UpstreamScope,
        ParentRoles = ["cloud"],
    };

    public void Configure(RoleBuilder gateway)
    {
        // Children's uplinks on --uplink, written into this node's log with their origins.
        gateway.AcceptUplinks();
        // Relaying: a child's records keep their origin, so the parents de-duplicate per edge.
        // Without --parent, to the cloud node the mesh chooses; until then it keeps what it accepts.
        gateway.ForwardToParents();
        gateway.JoinMesh(Mesh);
    }
}
