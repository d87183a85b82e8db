using Confluent.Kafka;
using EdgeStream.TestSupport;
using static EdgeStream.Kafka.Clients.Tests.Clients;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// Client certificates (mTLS principals) on the Kafka SSL listener with Confluent.Kafka: a certificate
/// from the fleet CA authenticates <c>User:NAME</c>, which ACLs check; one from another CA fails the
/// handshake; <c>--tls-client-auth required</c> turns away a client without one.
/// </summary>
public sealed class ClientCertificateTests
{
    /// <summary>SSL to <paramref name="node"/>, trusting <paramref name="fleet"/>'s CA, presenting <paramref name="name"/>'s certificate from <paramref name="issuer"/> (none when null).</summary>
    private static ClientConfig Ssl(AgentNode node, AgentCertificates fleet, AgentCertificates? issuer = null, string? name = null) => new()
    {
        BootstrapServers = node.Bootstrap,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        SecurityProtocol = SecurityProtocol.Ssl,
        SslCaLocation = fleet.Ca,
        SslCertificateLocation = name is null ? null : issuer!.Certificate(name),
        SslKeyLocation = name is null ? null : issuer!.Key(name),
    };

    [Fact]
    public async Task CertificatePrincipal_AclAllowsAlice_BobTopicAuthorizationFailed_OtherCaHandshakeFails_NodeServesOn()
    {
        using var dir = new TempDirectory();
        var fleet = AgentCertificates.ForNode(dir.Combine("fleet"), "edge-1", "alice", "bob");
        // Alice's name from a CA the node does not trust: the ACL for User:alice must not apply to it.
        var rogue = AgentCertificates.Create(dir.Combine("rogue"));
        rogue.Issue("alice");
        var data = dir.Combine("data");
        var topic = Unique.Name("mtls");
        AgentAcls.Add(data, "--principal", "User:alice", "--operation", "write", "create", "--topic", topic);
        // The node's own certificate doubles as the test's reader: a super user needs no ACL.
        await using var node = await AgentNode.StartAsync(data, "edge", ["--node-id", "edge-1", .. fleet.NodeFlags("edge-1"), "--authorizer", "on", "--super-users", "User:edge-1"]);

        Assert.Null(await ProduceAsync(Ssl(node, fleet, fleet, "alice"), topic, "from-alice"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, (await ProduceAsync(Ssl(node, fleet, fleet, "bob"), topic, "from-bob"))?.Code);
        // No certificate: anonymous, so no ACL either.
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, (await ProduceAsync(Ssl(node, fleet), topic, "anonymous"))?.Code);
        var rogueConfig = new ProducerConfig(Ssl(node, fleet, rogue, "alice")) { MessageTimeoutMs = 5000 };
        using (var producer = new ProducerBuilder<Null, string>(rogueConfig).Build())
            await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync(topic, new Message<Null, string> { Value = "from-rogue" }));

        // The node serves on, and only alice's records are in the topic.
        Assert.Null(await ProduceAsync(Ssl(node, fleet, fleet, "alice"), topic, "again"));
        var (values, error) = Consume(Ssl(node, fleet, fleet, "edge-1"), topic, Unique.Name("g"), 2);
        Assert.Null(error);
        Assert.Equal(["from-alice", "again"], values);
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(node).Contains("Kafka ACL denied User:bob", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            "bob's refusal names his certificate's principal");
    }

    [Fact]
    public async Task TlsClientAuthRequired_WithoutCertificateRefused_WithOneServed()
    {
        using var dir = new TempDirectory();
        var fleet = AgentCertificates.ForNode(dir.Combine("fleet"), "edge-1", "alice");
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", ["--node-id", "edge-1", .. fleet.NodeFlags("edge-1"), "--tls-client-auth", "required"]);
        var topic = Unique.Name("required");

        var refused = new ProducerConfig(Ssl(node, fleet)) { MessageTimeoutMs = 5000 };
        using (var producer = new ProducerBuilder<Null, string>(refused).Build())
            await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync(topic, new Message<Null, string> { Value = "no-certificate" }));
        Assert.Null(await ProduceAsync(Ssl(node, fleet, fleet, "alice"), topic, "with-certificate"));
        var (values, error) = Consume(Ssl(node, fleet, fleet, "alice"), topic, Unique.Name("g"), 1);
        Assert.Null(error);
        Assert.Equal(["with-certificate"], values);
    }
}
