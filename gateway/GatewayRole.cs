using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Gateway;

/// <summary>
/// What a gateway does that an edge does not: it accepts its children's uplinks and relays them, with
/// its own records, to its parents. The fleet view of its edges lands here. Everything else (the log,
/// Kafka, MQTT, HTTP status) is the node every role runs (<see cref="RoleHost"/>).
/// </summary>
public sealed class GatewayRole : IRoleModule
{
    public NodeRole Role => NodeRole.Gateway;

    public void Configure(RoleBuilder gateway)
    {
        // Children's uplinks on --uplink, written into this node's log with their origins.
        gateway.AcceptUplinks();
        // Relaying: a child's records keep their origin, so the parents de-duplicate per edge.
        // Without --parent the gateway keeps what it accepts.
        if (gateway.Options.Parents.Count > 0) gateway.ForwardToParents();
    }
}
