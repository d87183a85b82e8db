using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using static EdgeStream.Kafka.Clients.Tests.Clients;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// A node with SCRAM users alice, bob and admin (a super user) and <c>--authorizer on</c>; alice's
/// Write on topic <see cref="CliTopic"/> was added by <c>edgestream acls add</c> before it started.
/// </summary>
public sealed class AclAgent : IAsyncLifetime
{
    public const string AlicePassword = "alice-Acl-Secret-4711";
    public const string BobPassword = "bob-Acl-Secret-0815";
    public const string AdminPassword = "admin-Acl-Secret-1234";
    public const string CliTopic = "cli-granted";

    private readonly TempDirectory _dir = new();
    private AgentNode? _node;

    public AgentNode Node => _node ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var data = _dir.Combine("data");
        AgentUsers.Add(data, "alice", AlicePassword, "--mechanism", "scram-sha-512");
        AgentUsers.Add(data, "bob", BobPassword, "--mechanism", "scram-sha-512");
        AgentUsers.Add(data, "admin", AdminPassword, "--mechanism", "scram-sha-512");
        var (code, stdout, stderr) = ExternalTool.Run("dotnet", [AgentProcess.AgentDll, "acls", "add", "--principal", "User:alice", "--operation", "write", "create",
            "--topic", CliTopic, "--data", data], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"edgestream acls add: exit {code}\n{stdout}\n{stderr}");
        _node = await AgentNode.StartAsync(data, "edge", "--kafka-sasl", "scram-sha-512", "--super-users", "User:admin", "--authorizer", "on");
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// ACLs with Confluent.Kafka (librdkafka) over SASL/SCRAM: administration through the AdminClient,
/// and allow, deny and refusal per operation with Kafka's error codes.
/// </summary>
public sealed class AclTests(AclAgent agent) : IClassFixture<AclAgent>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private ClientConfig As(string user, string password) => new()
    {
        BootstrapServers = agent.Node.Bootstrap,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = SaslMechanism.ScramSha512,
        SaslUsername = user,
        SaslPassword = password,
    };

    private ClientConfig Admin => As("admin", AclAgent.AdminPassword);
    private ClientConfig Alice => As("alice", AclAgent.AlicePassword);
    private ClientConfig Bob => As("bob", AclAgent.BobPassword);

    private static AclBinding Acl(ResourceType type, string name, string principal, AclOperation operation,
        AclPermissionType permission = AclPermissionType.Allow, ResourcePatternType pattern = ResourcePatternType.Literal) => new()
    {
        Pattern = new ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new AccessControlEntry { Principal = principal, Host = "*", Operation = operation, PermissionType = permission },
    };

    private async Task GrantAsync(params AclBinding[] acls)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        await admin.CreateAclsAsync(acls);
    }

    private async Task CreateTopicsAsync(params string[] topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        await admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification { Name = t, NumPartitions = 1, ReplicationFactor = 1 }));
    }

    [Fact]
    public async Task AdminClient_CreateDescribeDeleteAcls_RoundTrip()
    {
        var topic = Unique.Name("acl-admin");
        var prefix = Unique.Name("acl-prefix");
        var principal = "User:" + Unique.Name("dave");
        AclBinding[] acls =
        [
            Acl(ResourceType.Topic, topic, principal, AclOperation.Read),
            Acl(ResourceType.Topic, prefix, principal, AclOperation.Write, AclPermissionType.Deny, ResourcePatternType.Prefixed),
            Acl(ResourceType.Group, "g-" + topic, principal, AclOperation.Read),
        ];
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        await admin.CreateAclsAsync(acls);

        var byPrincipal = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Principal = principal, Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };
        var described = await admin.DescribeAclsAsync(byPrincipal);
        Assert.Equal(acls.OrderBy(a => a.Pattern.Name), described.AclBindings.OrderBy(a => a.Pattern.Name));

        // MATCH: the bindings that apply to one topic under the prefix.
        var matching = await admin.DescribeAclsAsync(new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Topic, Name = prefix + "-x", ResourcePatternType = ResourcePatternType.Match },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        });
        Assert.Equal(acls[1], Assert.Single(matching.AclBindings));

        // Without Describe on the cluster the bindings are not shown. librdkafka drops DescribeAcls'
        // top-level error code (CLUSTER_AUTHORIZATION_FAILED here) and reports an empty listing.
        using var alice = new AdminClientBuilder(new AdminClientConfig(Alice)).Build();
        Assert.Empty((await alice.DescribeAclsAsync(byPrincipal)).AclBindings);

        var deleted = await admin.DeleteAclsAsync([byPrincipal]);
        Assert.Equal(3, Assert.Single(deleted).AclBindings.Count);
        Assert.Empty((await admin.DescribeAclsAsync(byPrincipal)).AclBindings);

        // Without Alter on the cluster: CLUSTER_AUTHORIZATION_FAILED.
        var refused = await Assert.ThrowsAsync<CreateAclsException>(() => alice.CreateAclsAsync([Acl(ResourceType.Topic, topic, "User:alice", AclOperation.All)]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(refused.Results).Error.Code);
        var deleteRefused = await Assert.ThrowsAsync<DeleteAclsException>(() => alice.DeleteAclsAsync([byPrincipal]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(deleteRefused.Results).Error.Code);
    }

    [Fact]
    public async Task Produce_WriteAllowed_Appends_OtherUserGetsTopicAuthorizationFailed_NodeServesOn()
    {
        var topic = Unique.Name("acl-write");
        await CreateTopicsAsync(topic);
        await GrantAsync(Acl(ResourceType.Topic, topic, "User:alice", AclOperation.Write));

        Assert.Null(await ProduceAsync(Alice, topic, "from-alice"));
        var denied = await ProduceAsync(Bob, topic, "from-bob");
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, denied?.Code);

        // After the refusal alice (and the super user, who needs no ACL) are served as before.
        Assert.Null(await ProduceAsync(Alice, topic, "again"));
        Assert.Null(await ProduceAsync(Admin, topic, "by-admin"));
        var (values, error) = Consume(Admin, topic, Unique.Name("g-admin"), 3);
        Assert.Null(error);
        Assert.Equal(["from-alice", "again", "by-admin"], values);

        // Audited and counted in /v1/status.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{agent.Node.HttpPort}/v1/status"));
        var authentication = status.RootElement.GetProperty("authentication");
        Assert.True(authentication.GetProperty("authorizer").GetBoolean());
        Assert.True(authentication.GetProperty("kafkaAclDenials").GetInt64() >= 1);
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(agent.Node).Contains("Kafka ACL denied User:", StringComparison.Ordinal), TimeSpan.FromSeconds(10)));
        var logs = AgentUsers.AllLogs(agent.Node);
        foreach (var secret in new[] { AclAgent.AlicePassword, AclAgent.BobPassword, AclAgent.AdminPassword })
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_ReadOnTopicAndGroup_RecordsArrive_WithoutGroupGroupAuthorizationFailed()
    {
        var topic = Unique.Name("acl-read");
        var group = Unique.Name("g-alice");
        await CreateTopicsAsync(topic);
        Assert.Null(await ProduceAsync(Admin, topic, "r0"));
        Assert.Null(await ProduceAsync(Admin, topic, "r1"));
        await GrantAsync(
            Acl(ResourceType.Topic, topic, "User:alice", AclOperation.Read),
            Acl(ResourceType.Group, group, "User:alice", AclOperation.Read),
            Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Read));

        var (values, error) = Consume(Alice, topic, group, 2);
        Assert.Null(error);
        Assert.Equal(["r0", "r1"], values);

        var (bobValues, bobError) = Consume(Bob, topic, Unique.Name("g-bob"), 1);
        Assert.Empty(bobValues);
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, bobError?.Code);
    }

    [Fact]
    public async Task CreateTopics_WithoutCreate_TopicAuthorizationFailed_CliGrantedCreateWorks()
    {
        using var alice = new AdminClientBuilder(new AdminClientConfig(Alice)).Build();
        var refused = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            alice.CreateTopicsAsync([new TopicSpecification { Name = Unique.Name("acl-create"), NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(refused.Results).Error.Code);

        // `edgestream acls add` gave alice Write and Create on this topic before the node started: the
        // producer's Metadata request creates it and the record is appended.
        Assert.Null(await ProduceAsync(Alice, AclAgent.CliTopic, "via-cli-acl"));
    }

    [Fact]
    public async Task Metadata_AllTopics_HidesTopicsThePrincipalMayNotDescribe()
    {
        var visible = Unique.Name("acl-visible");
        var hidden = Unique.Name("acl-hidden");
        await CreateTopicsAsync(visible, hidden);
        await GrantAsync(Acl(ResourceType.Topic, visible, "User:bob", AclOperation.Describe));

        using var bob = new AdminClientBuilder(new AdminClientConfig(Bob)).Build();
        var names = bob.GetMetadata(Timeout).Topics.Select(t => t.Topic).ToList();
        Assert.Contains(visible, names);
        Assert.DoesNotContain(hidden, names);

        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        var all = admin.GetMetadata(Timeout).Topics.Select(t => t.Topic).ToList();
        Assert.Contains(hidden, all);
    }

    [Fact]
    public async Task Produce_PrefixedAllow_CoversTopicsUnderThePrefix()
    {
        var prefix = Unique.Name("acl-pre");
        var topic = prefix + ".orders";
        var other = Unique.Name("acl-other");
        await CreateTopicsAsync(topic, other);
        await GrantAsync(Acl(ResourceType.Topic, prefix + ".", "User:alice", AclOperation.Write, pattern: ResourcePatternType.Prefixed));

        Assert.Null(await ProduceAsync(Alice, topic, "prefixed"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, (await ProduceAsync(Alice, other, "not-covered"))?.Code);
    }

    [Fact]
    public async Task Produce_DenyForOneUser_WinsOverAllowForEveryone()
    {
        var topic = Unique.Name("acl-deny");
        await CreateTopicsAsync(topic);
        await GrantAsync(
            Acl(ResourceType.Topic, topic, "User:*", AclOperation.Write),
            Acl(ResourceType.Topic, topic, "User:alice", AclOperation.Write, AclPermissionType.Deny));

        Assert.Null(await ProduceAsync(Bob, topic, "bob-allowed"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, (await ProduceAsync(Alice, topic, "alice-denied"))?.Code);
    }
}
