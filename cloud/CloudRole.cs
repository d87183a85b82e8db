using EdgeStream.Hosting;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Mesh;

namespace EdgeStream.Cloud;

/// <summary>
/// What the cloud ingest tier does: it accepts uplinks and, as the top tier, has no parent (the
/// configuration rejects <c>--parent</c> on a cloud node); with <c>--sink</c> it forwards its log into an
/// external Kafka cluster instead. Everything else (the log, Kafka, MQTT, HTTP status) is the node every role runs
/// (<see cref="RoleHost"/>).
/// </summary>
public sealed class CloudRole : IRoleModule
{
    public NodeRole Role => NodeRole.Cloud;

    /// <summary>The cloud tier is in the upstream scope only (gateways find it through --seeds) and has no parent.</summary>
    public static readonly MeshPolicy Mesh = new()
    {
        Scopes = [MeshPolicy.UpstreamScope],
        UpperScope = MeshPolicy.UpstreamScope,
    };

    public void Configure(RoleBuilder cloud)
    {
        // Children's uplinks on --uplink, written into this node's log with their origins.
        cloud.AcceptUplinks();
        cloud.JoinMesh(Mesh);
        // The top of the hierarchy hands everything on to the organisation's Kafka cluster, if it names one.
        cloud.SinkToKafka();
    }
}
