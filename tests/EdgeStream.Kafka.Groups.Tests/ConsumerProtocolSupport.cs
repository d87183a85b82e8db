using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Groups.Tests;

/// <summary>
/// An agent whose consumer-protocol groups (KIP-848) run on short clocks: a 3 s session timeout and
/// 300 ms heartbeats, so a vanished member is replaced within a test's budget.
/// </summary>
public sealed class ConsumerProtocolAgent() : SharedAgent(["--partitions", "6",
    "--kafka-group-consumer-session-timeout", "3s", "--kafka-group-consumer-heartbeat-interval", "300ms"]);

[CollectionDefinition(Name)]
public sealed class ConsumerProtocolAgentCollection : ICollectionFixture<ConsumerProtocolAgent>
{
    public const string Name = "consumer protocol agent";
}

public static class ConsumerProtocolClients
{
    /// <summary>A Confluent consumer on the new protocol: session and heartbeat clocks are the broker's, the assignor is asked for by name.</summary>
    public static ConsumerConfig Config(string bootstrap, string group, string? assignor = null)
    {
        var config = Clients.GroupConfig(bootstrap, group);
        config.SessionTimeoutMs = null;
        config.HeartbeatIntervalMs = null;
        config.GroupProtocol = GroupProtocol.Consumer;
        config.GroupRemoteAssignor = assignor;
        return config;
    }
}
