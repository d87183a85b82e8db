using EdgeStream.Hosting.Storage;
using EdgeStream.Metadata;
using EdgeStream.Sink;
using EdgeStream.Uplink.Sending;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>Wires the sink into an external Kafka cluster (<c>--sink</c>) from the agent's settings. Which role runs it is the role's decision.</summary>
public static class SinkHosting
{
    /// <summary>
    /// Forwards the node's log (what children sent, with its origins, and what was produced here) into
    /// the external cluster named by <c>--sink</c>; nothing when it is not set. Its state and counters
    /// appear in <c>/v1/status</c> and <c>/metrics</c>.
    /// </summary>
    public static RoleBuilder SinkToKafka(this RoleBuilder role)
    {
        if (role.Options.Sink is not { } bootstrap) return role;
        var options = new SinkOptions
        {
            Bootstrap = bootstrap,
            NodeId = role.Node.NodeId,
            Topics = new UplinkTopicRules(role.Options.SinkTopics, role.Options.SinkTopicPrefix, role.Options.SinkTopicMap),
            GapWait = role.Options.SinkGapWait,
        };
        role.Services.AddSingleton(new SinkStatus(string.Join(",", bootstrap)));
        role.Services.AddHostedService(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new KafkaSinkService(options, () => state.Catalog, sp.GetRequiredService<MetadataStore>(),
                sp.GetRequiredService<SinkStatus>(), sp.GetRequiredService<ILogger<KafkaSinkService>>());
        });
        return role;
    }
}
