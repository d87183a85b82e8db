using System.Net.Sockets;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.TestSupport;
using Wire = EdgeStream.Kafka.Protocol.Messages;
using static EdgeStream.Kafka.Clients.Tests.Clients;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>
/// A node with SCRAM users alice, bob, carol and admin (a super user) and <c>--authorizer on</c>; alice's
/// Write on topic <see cref="CliTopic"/> was added by <c>edgestream acls add</c> before it started.
/// PLAIN is offered too, for the raw-frame tests (a PLAIN token is one frame; librdkafka clients use SCRAM).
/// </summary>
public sealed class AclAgent : IAsyncLifetime
{
    public const string AlicePassword = "alice-Acl-Secret-4711";
    public const string BobPassword = "bob-Acl-Secret-0815";
    public const string AdminPassword = "admin-Acl-Secret-1234";
    /// <summary>carol is given ACLs on the cluster, which would change what bob's and alice's tests see.</summary>
    public const string CarolPassword = "carol-Acl-Secret-2718";
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
        AgentUsers.Add(data, "carol", CarolPassword, "--mechanism", "scram-sha-512");
        var (code, stdout, stderr) = ExternalTool.Run("dotnet", [AgentProcess.AgentDll, "acls", "add", "--principal", "User:alice", "--operation", "write", "create",
            "--topic", CliTopic, "--data", data], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"edgestream acls add: exit {code}\n{stdout}\n{stderr}");
        _node = await AgentNode.StartAsync(data, "edge", "--kafka-sasl", "scram-sha-512,plain", "--super-users", "User:admin", "--authorizer", "on");
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

    /// <summary>A raw connection authenticated with PLAIN as <paramref name="user"/> (correlation ids 1 and 2 are used).</summary>
    private async Task<Socket> RawAsync(string user, string password)
    {
        var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort);
        var handshake = await RoundTripAsync<Wire.SaslHandshakeResponse>(socket, Wire.ApiKey.SaslHandshake, 1, 1, new Wire.SaslHandshakeRequest { Mechanism = "PLAIN" });
        Assert.Equal(0, handshake.ErrorCode);
        var token = System.Text.Encoding.UTF8.GetBytes($"\0{user}\0{password}");
        var authenticate = await RoundTripAsync<Wire.SaslAuthenticateResponse>(socket, Wire.ApiKey.SaslAuthenticate, 2, 2, new Wire.SaslAuthenticateRequest { AuthBytes = token });
        Assert.Equal(0, authenticate.ErrorCode);
        return socket;
    }

    private static async Task<TResponse> RoundTripAsync<TResponse>(Socket socket, Wire.ApiKey api, short version, int correlationId, Wire.IKafkaMessage request)
        where TResponse : Wire.IKafkaMessage, new()
    {
        await socket.SendAsync(RawKafka.Request((short)api, version, correlationId, request), SocketFlags.None);
        return RawKafka.ReadResponse<TResponse>(await KafkaWire.ReadFrameAsync(socket, Timeout), api, version, correlationId);
    }

    /// <summary>
    /// Grants <paramref name="operation"/> on a transactional id with a raw CreateAcls as admin:
    /// Confluent.Kafka's ResourceType has no TRANSACTIONAL_ID (Kafka's resource type 5).
    /// </summary>
    private async Task GrantTransactionalIdAsync(string transactionalId, string principal, AclOperation operation)
    {
        using var socket = await RawAsync("admin", AclAgent.AdminPassword);
        var response = await RoundTripAsync<Wire.CreateAclsResponse>(socket, Wire.ApiKey.CreateAcls, 3, 3, new Wire.CreateAclsRequest
        {
            Creations =
            {
                new()
                {
                    ResourceType = 5, ResourceName = transactionalId, ResourcePatternType = (sbyte)ResourcePatternType.Literal,
                    Principal = principal, Host = "*", Operation = (sbyte)operation, PermissionType = (sbyte)AclPermissionType.Allow,
                },
            },
        });
        Assert.Equal(0, Assert.Single(response.Results).ErrorCode);
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

    [Fact]
    public async Task FindCoordinator_Raw_WithoutDescribe_RefusedPerKeyFromV4_TopLevelBefore()
    {
        var group = Unique.Name("g-fc");
        var deniedGroup = Unique.Name("g-fc-denied");
        var txn = Unique.Name("txn-fc");
        var deniedTxn = Unique.Name("txn-fc-denied");
        await GrantAsync(Acl(ResourceType.Group, group, "User:bob", AclOperation.Describe));
        // Write on the transactional id implies Describe, as in Kafka.
        await GrantTransactionalIdAsync(txn, "User:bob", AclOperation.Write);

        using var bob = await RawAsync("bob", AclAgent.BobPassword);
        // v4+ (KIP-699): one answer per key, the refused one without a coordinator.
        var groups = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 4, 3,
            new Wire.FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = [group, deniedGroup] });
        Assert.Equal([(group, (short)0), (deniedGroup, (short)30)], groups.Coordinators.Select(c => (c.Key, c.ErrorCode)));
        Assert.True(groups.Coordinators[0].NodeId >= 0 && groups.Coordinators[0].Port == agent.Node.KafkaPort);
        Assert.Equal((-1, "", -1), (groups.Coordinators[1].NodeId, groups.Coordinators[1].Host, groups.Coordinators[1].Port));
        var txns = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 5, 4,
            new Wire.FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = [deniedTxn, txn] });
        Assert.Equal([(deniedTxn, (short)53), (txn, (short)0)], txns.Coordinators.Select(c => (c.Key, c.ErrorCode)));

        // v0-v3: one key, the refusal at the top.
        var v3 = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 3, 5, new Wire.FindCoordinatorRequest { Key = deniedGroup, KeyType = 0 });
        Assert.Equal((30, -1), (v3.ErrorCode, v3.NodeId));
        var v1 = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 1, 6, new Wire.FindCoordinatorRequest { Key = deniedTxn, KeyType = 1 });
        Assert.Equal((53, -1), (v1.ErrorCode, v1.NodeId));
        var v0 = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 0, 7, new Wire.FindCoordinatorRequest { Key = group });
        Assert.Equal((0, agent.Node.KafkaPort), (v0.ErrorCode, v0.Port));

        // The connection is served on after the refusals; the super user needs no ACL.
        var again = await RoundTripAsync<Wire.FindCoordinatorResponse>(bob, Wire.ApiKey.FindCoordinator, 2, 8, new Wire.FindCoordinatorRequest { Key = txn, KeyType = 1 });
        Assert.Equal(0, again.ErrorCode);
        using var admin = await RawAsync("admin", AclAgent.AdminPassword);
        var asAdmin = await RoundTripAsync<Wire.FindCoordinatorResponse>(admin, Wire.ApiKey.FindCoordinator, 4, 3,
            new Wire.FindCoordinatorRequest { KeyType = 0, CoordinatorKeys = [deniedGroup] });
        Assert.Equal(0, Assert.Single(asAdmin.Coordinators).ErrorCode);
    }

    [Fact]
    public async Task ConsumerGroup_WithoutDescribe_DescribeAndListRefused_AllowedAfterAcl()
    {
        var topic = Unique.Name("acl-grp");
        var group = Unique.Name("g-described");
        await CreateTopicsAsync(topic);
        Assert.Null(await ProduceAsync(Admin, topic, "g0"));
        // The super user's consumer leaves the group behind, Empty with its committed offset.
        var (values, error) = Consume(Admin, topic, group, 1);
        Assert.Null(error);
        Assert.Equal(["g0"], values);

        using var bob = new AdminClientBuilder(new AdminClientConfig(Bob)).Build();
        var refused = await Assert.ThrowsAsync<DescribeConsumerGroupsException>(() => bob.DescribeConsumerGroupsAsync([group]));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, Assert.Single(refused.Results.ConsumerGroupDescriptions).Error.Code);
        Assert.DoesNotContain(group, (await bob.ListConsumerGroupsAsync()).Valid.Select(g => g.GroupId));

        await GrantAsync(Acl(ResourceType.Group, group, "User:bob", AclOperation.Describe));
        var described = Assert.Single((await bob.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions);
        Assert.Equal((group, ErrorCode.NoError, ConsumerGroupState.Empty), (described.GroupId, described.Error.Code, described.State));
        Assert.Contains(group, (await bob.ListConsumerGroupsAsync()).Valid.Select(g => g.GroupId));

        // Describe is not Read: with Read on the topic, joining the group is still refused.
        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Read));
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, Consume(Bob, topic, group, 1).Error?.Code);
    }

    [Fact]
    public async Task TransactionalProducer_WithoutWriteOnTransactionalId_InitTransactionsRefused_AllowedAfterAcl()
    {
        var topic = Unique.Name("acl-txn");
        var transactionalId = Unique.Name("txn-bob");
        await CreateTopicsAsync(topic);
        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Write));
        ProducerConfig Transactional() => new(Bob) { TransactionalId = transactionalId, MessageTimeoutMs = 15000 };

        using (var refused = new ProducerBuilder<Null, string>(Transactional()).Build())
        {
            var ex = Assert.ThrowsAny<KafkaException>(() => refused.InitTransactions(Timeout));
            Assert.Equal(ErrorCode.TransactionalIdAuthorizationFailed, ex.Error.Code);
        }

        await GrantTransactionalIdAsync(transactionalId, "User:bob", AclOperation.Write);
        using (var producer = new ProducerBuilder<Null, string>(Transactional()).Build())
        {
            producer.InitTransactions(Timeout);
            producer.BeginTransaction();
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "committed" });
            producer.CommitTransaction(Timeout);
        }
        var (values, error) = Consume(Admin, topic, Unique.Name("g-txn"), 1);
        Assert.Null(error);
        Assert.Equal(["committed"], values);
    }

    [Fact]
    public async Task DescribeAndAlterConfigs_WithoutAcl_Refused_WithDescribeConfigsAndAlterConfigs_Served()
    {
        var topic = Unique.Name("acl-cfg");
        await CreateTopicsAsync(topic);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        using var bob = new AdminClientBuilder(new AdminClientConfig(Bob)).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        var brokerId = admin.GetMetadata(Timeout).Brokers[0].BrokerId;

        var describeRefused = await Assert.ThrowsAsync<DescribeConfigsException>(() => bob.DescribeConfigsAsync([resource]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(describeRefused.Results).Error.Code);
        var brokerRefused = await Assert.ThrowsAsync<DescribeConfigsException>(() =>
            bob.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = brokerId.ToString(System.Globalization.CultureInfo.InvariantCulture) }]));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, Assert.Single(brokerRefused.Results).Error.Code);
        var alterRefused = await Assert.ThrowsAsync<AlterConfigsException>(() =>
            bob.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = [new ConfigEntry { Name = "retention.ms", Value = "3600000" }] }));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(alterRefused.Results).Error.Code);
        var incrementalRefused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() =>
            bob.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [resource] = [new ConfigEntry { Name = "retention.ms", Value = "3600000", IncrementalOperation = AlterConfigOpType.Set }],
            }));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(incrementalRefused.Results).Error.Code);

        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.AlterConfigs));
        // AlterConfigs implies DescribeConfigs.
        Assert.Contains((await bob.DescribeConfigsAsync([resource]))[0].Entries.Keys, k => k == "retention.ms");
        await bob.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "retention.ms", Value = "3600000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        Assert.Equal("3600000", (await admin.DescribeConfigsAsync([resource]))[0].Entries["retention.ms"].Value);
    }

    [Fact]
    public async Task DeleteTopics_WithoutDelete_TopicAuthorizationFailed_WithDelete_Deleted()
    {
        var topic = Unique.Name("acl-del");
        await CreateTopicsAsync(topic);
        using var bob = new AdminClientBuilder(new AdminClientConfig(Bob)).Build();
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();

        var refused = await Assert.ThrowsAsync<DeleteTopicsException>(() => bob.DeleteTopicsAsync([topic]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, Assert.Single(refused.Results).Error.Code);
        Assert.Contains(topic, admin.GetMetadata(Timeout).Topics.Select(t => t.Topic));

        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Delete));
        await bob.DeleteTopicsAsync([topic]);
        Assert.True(await Wait.UntilAsync(() => !admin.GetMetadata(Timeout).Topics.Any(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError), Timeout));
    }

    [Fact]
    public async Task DescribeAndListTransactions_WithoutDescribeOnTransactionalId_RefusedAndHidden_AllowedAfterAcl()
    {
        var topic = Unique.Name("acl-txn-desc");
        var transactionalId = Unique.Name("txn-open");
        await CreateTopicsAsync(topic);
        // The super user's transaction stays open while bob looks at it.
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Admin) { TransactionalId = transactionalId, MessageTimeoutMs = 15000 }).Build();
        producer.InitTransactions(Timeout);
        producer.BeginTransaction();
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "open" });

        using var bob = await RawAsync("bob", AclAgent.BobPassword);
        var refused = await RoundTripAsync<Wire.DescribeTransactionsResponse>(bob, Wire.ApiKey.DescribeTransactions, 0, 3,
            new Wire.DescribeTransactionsRequest { TransactionalIds = [transactionalId] });
        var state = Assert.Single(refused.TransactionStates);
        Assert.Equal((53, -1L, 0), (state.ErrorCode, state.ProducerId, state.Topics.Count));
        var hidden = await RoundTripAsync<Wire.ListTransactionsResponse>(bob, Wire.ApiKey.ListTransactions, 1, 4, new Wire.ListTransactionsRequest());
        Assert.Equal(0, hidden.ErrorCode);
        Assert.DoesNotContain(transactionalId, hidden.TransactionStates.Select(t => t.TransactionalId));

        // Describe on the id: described and listed; the partitions of a topic bob may not Describe are left out.
        await GrantTransactionalIdAsync(transactionalId, "User:bob", AclOperation.Describe);
        var described = Assert.Single((await RoundTripAsync<Wire.DescribeTransactionsResponse>(bob, Wire.ApiKey.DescribeTransactions, 0, 5,
            new Wire.DescribeTransactionsRequest { TransactionalIds = [transactionalId] })).TransactionStates);
        Assert.Equal((0, "Ongoing", 0), (described.ErrorCode, described.TransactionStateValue, described.Topics.Count));
        Assert.Contains(transactionalId, (await RoundTripAsync<Wire.ListTransactionsResponse>(bob, Wire.ApiKey.ListTransactions, 1, 6, new Wire.ListTransactionsRequest()))
            .TransactionStates.Select(t => t.TransactionalId));
        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Describe));
        var withTopic = Assert.Single((await RoundTripAsync<Wire.DescribeTransactionsResponse>(bob, Wire.ApiKey.DescribeTransactions, 0, 7,
            new Wire.DescribeTransactionsRequest { TransactionalIds = [transactionalId] })).TransactionStates);
        Assert.Equal(topic, Assert.Single(withTopic.Topics).Topic);

        producer.AbortTransaction(Timeout);
    }

    [Fact]
    public async Task OffsetDelete_DeleteOnGroupWithoutReadOnTopic_PartitionTopicAuthorizationFailed_OffsetKept()
    {
        var topic = Unique.Name("acl-offdel");
        var group = Unique.Name("g-offdel");
        await CreateTopicsAsync(topic);
        Assert.Null(await ProduceAsync(Admin, topic, "o0"));
        Assert.Null(Consume(Admin, topic, group, 1).Error);

        using var bob = await RawAsync("bob", AclAgent.BobPassword);
        Wire.OffsetDeleteRequest Request() => new() { GroupId = group, Topics = [new() { Name = topic, Partitions = [new() { PartitionIndex = 0 }] }] };
        Assert.Equal(30, (await RoundTripAsync<Wire.OffsetDeleteResponse>(bob, Wire.ApiKey.OffsetDelete, 0, 3, Request())).ErrorCode);

        await GrantAsync(Acl(ResourceType.Group, group, "User:bob", AclOperation.Delete));
        var topicRefused = await RoundTripAsync<Wire.OffsetDeleteResponse>(bob, Wire.ApiKey.OffsetDelete, 0, 4, Request());
        Assert.Equal((0, (short)29), (topicRefused.ErrorCode, Assert.Single(Assert.Single(topicRefused.Topics).Partitions).ErrorCode));
        using var admin = new AdminClientBuilder(new AdminClientConfig(Admin)).Build();
        var kept = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [new TopicPartition(topic, 0)])]);
        Assert.Equal(1, Assert.Single(Assert.Single(kept).Partitions).Offset.Value);

        await GrantAsync(Acl(ResourceType.Topic, topic, "User:bob", AclOperation.Read));
        var deleted = await RoundTripAsync<Wire.OffsetDeleteResponse>(bob, Wire.ApiKey.OffsetDelete, 0, 5, Request());
        Assert.Equal((0, (short)0), (deleted.ErrorCode, Assert.Single(Assert.Single(deleted.Topics).Partitions).ErrorCode));
    }

    [Fact]
    public async Task CreateTopics_CreateWithoutDescribeConfigs_ConfigsHidden()
    {
        var hidden = Unique.Name("acl-cfg-hidden");
        var shown = Unique.Name("acl-cfg-shown");
        await GrantAsync(
            Acl(ResourceType.Topic, hidden, "User:bob", AclOperation.Create),
            Acl(ResourceType.Topic, shown, "User:bob", AclOperation.Create),
            Acl(ResourceType.Topic, shown, "User:bob", AclOperation.DescribeConfigs));

        using var bob = await RawAsync("bob", AclAgent.BobPassword);
        var response = await RoundTripAsync<Wire.CreateTopicsResponse>(bob, Wire.ApiKey.CreateTopics, 5, 3, new Wire.CreateTopicsRequest
        {
            Topics = [new() { Name = hidden, NumPartitions = 1, ReplicationFactor = 1 }, new() { Name = shown, NumPartitions = 1, ReplicationFactor = 1 }],
        });
        var (h, s) = (response.Topics.Single(t => t.Name == hidden), response.Topics.Single(t => t.Name == shown));
        Assert.Equal((0, (short)29, 0), (h.ErrorCode, h.TopicConfigErrorCode, h.Configs!.Count));
        Assert.Equal((0, (short)0), (s.ErrorCode, s.TopicConfigErrorCode));
        Assert.Contains(s.Configs!, c => c.Name == "retention.ms");
    }

    [Fact]
    public async Task ClusterResources_LogDirsUsersAndAuthorizedOperations_NeedDescribeOnTheCluster()
    {
        using var carol = await RawAsync("carol", AclAgent.CarolPassword);
        var logDirs = await RoundTripAsync<Wire.DescribeLogDirsResponse>(carol, Wire.ApiKey.DescribeLogDirs, 4, 3, new Wire.DescribeLogDirsRequest { Topics = null });
        Assert.Equal((31, 0), (logDirs.ErrorCode, logDirs.Results.Count));
        var cluster = await RoundTripAsync<Wire.DescribeClusterResponse>(carol, Wire.ApiKey.DescribeCluster, 0, 4, new Wire.DescribeClusterRequest { IncludeClusterAuthorizedOperations = true });
        Assert.Equal(0, cluster.ClusterAuthorizedOperations);
        var users = await RoundTripAsync<Wire.DescribeUserScramCredentialsResponse>(carol, Wire.ApiKey.DescribeUserScramCredentials, 0, 5,
            new Wire.DescribeUserScramCredentialsRequest { Users = [new() { Name = "alice" }] });
        Assert.Equal(31, Assert.Single(users.Results).ErrorCode);

        // Describe on the cluster (Confluent.Kafka's Broker resource type is Kafka's cluster, 4).
        await GrantAsync(Acl(ResourceType.Broker, "kafka-cluster", "User:carol", AclOperation.Describe));
        logDirs = await RoundTripAsync<Wire.DescribeLogDirsResponse>(carol, Wire.ApiKey.DescribeLogDirs, 4, 6, new Wire.DescribeLogDirsRequest { Topics = null });
        Assert.Equal((0, 1), (logDirs.ErrorCode, logDirs.Results.Count));
        cluster = await RoundTripAsync<Wire.DescribeClusterResponse>(carol, Wire.ApiKey.DescribeCluster, 0, 7, new Wire.DescribeClusterRequest { IncludeClusterAuthorizedOperations = true });
        Assert.Equal(1 << 8, cluster.ClusterAuthorizedOperations);
        users = await RoundTripAsync<Wire.DescribeUserScramCredentialsResponse>(carol, Wire.ApiKey.DescribeUserScramCredentials, 0, 8,
            new Wire.DescribeUserScramCredentialsRequest { Users = [new() { Name = "alice" }] });
        Assert.Equal((0, 1), (Assert.Single(users.Results).ErrorCode, users.Results[0].CredentialInfos.Count));

        // The super user may do every cluster operation: Create 5, Alter 7, Describe 8, ClusterAction 9,
        // DescribeConfigs 10, AlterConfigs 11, IdempotentWrite 12 (Kafka's AclOperation codes).
        using var admin = await RawAsync("admin", AclAgent.AdminPassword);
        var all = await RoundTripAsync<Wire.DescribeClusterResponse>(admin, Wire.ApiKey.DescribeCluster, 0, 3, new Wire.DescribeClusterRequest { IncludeClusterAuthorizedOperations = true });
        Assert.Equal((1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12), all.ClusterAuthorizedOperations);
    }
}
