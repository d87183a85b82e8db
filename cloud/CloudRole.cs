using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;

namespace EdgeStream.Cloud;

/// <summary>
/// What the cloud ingest tier does: it accepts uplinks and, as the top tier, forwards nowhere (the
/// configuration rejects <c>--parent</c> on a cloud node). The sink to an external Kafka cluster lands
/// here. Everything else (the log, Kafka, MQTT, HTTP status) is the node every role runs
/// (<see cref="RoleHost"/>).
/// </summary>
public sealed class CloudRole : IRoleModule
{
    public NodeRole Role => NodeRole.Cloud;

    public void Configure(RoleBuilder cloud)
    {
        // Children's uplinks on --uplink, written into this node's log with their origins.
        cloud.AcceptUplinks();
    }
}
