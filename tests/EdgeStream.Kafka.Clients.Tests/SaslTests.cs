using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.TestSupport;

namespace EdgeStream.Kafka.Clients.Tests;

/// <summary>A node requiring SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with three users made by <c>edgestream users add</c> before it starts.</summary>
public sealed class SaslAgent : IAsyncLifetime
{
    public const string AlicePassword = "alice-Secret-4711";
    public const string BobPassword = "bob-Secret-0815";
    public const string AdminPassword = "admin-Secret-1234";
    public const string WrongPassword = "not-the-Password-99";

    private readonly TempDirectory _dir = new();
    private AgentNode? _node;

    public AgentNode Node => _node ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var data = _dir.Combine("data");
        AgentUsers.Add(data, "alice", AlicePassword);
        AgentUsers.Add(data, "bob", BobPassword, "--mechanism", "scram-sha-256", "--iterations", "8192");
        AgentUsers.Add(data, "admin", AdminPassword, "--mechanism", "scram-sha-512");
        _node = await AgentNode.StartAsync(data, "edge", "--kafka-sasl", "plain,scram-sha-256,scram-sha-512", "--super-users", "User:admin");
    }

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// SASL on the Kafka listener with real clients: Confluent.Kafka (librdkafka), kcat, kafka-python;
/// refusals; user administration over Kafka (KIP-554); no password in anything the node logs.
/// </summary>
public sealed class SaslTests(SaslAgent agent) : IClassFixture<SaslAgent>
{
    private ClientConfig Sasl(string mechanism, string user, string password) => new()
    {
        BootstrapServers = agent.Node.Bootstrap,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = mechanism switch
        {
            "PLAIN" => SaslMechanism.Plain,
            "SCRAM-SHA-256" => SaslMechanism.ScramSha256,
            _ => SaslMechanism.ScramSha512,
        },
        SaslUsername = user,
        SaslPassword = password,
    };

    private static async Task<List<string>> ProduceAndConsumeAsync(ClientConfig config, string topic, int count)
    {
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(config)).Build())
            for (var i = 0; i < count; i++) await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"v{i}" });
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(config) { GroupId = Unique.Name("g"), AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        consumer.Subscribe(topic);
        var values = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (values.Count < count && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) values.Add(r.Message.Value);
        consumer.Close();
        return values;
    }

    [Theory]
    [InlineData("PLAIN", "alice", SaslAgent.AlicePassword)]
    [InlineData("SCRAM-SHA-256", "alice", SaslAgent.AlicePassword)]
    [InlineData("SCRAM-SHA-512", "alice", SaslAgent.AlicePassword)]
    [InlineData("SCRAM-SHA-256", "bob", SaslAgent.BobPassword)]
    [InlineData("PLAIN", "bob", SaslAgent.BobPassword)]
    public async Task ConfluentKafka_EachMechanism_ProducesAndConsumes(string mechanism, string user, string password)
    {
        var topic = Unique.Name("sasl");
        Assert.Equal(["v0", "v1", "v2"], await ProduceAndConsumeAsync(Sasl(mechanism, user, password), topic, 3));
    }

    /// <summary>The first error the client reports while trying to reach the cluster.</summary>
    private static Error FirstError(ClientConfig config)
    {
        Error? first = null;
        using var admin = new AdminClientBuilder(new AdminClientConfig(config)).SetErrorHandler((_, e) => first ??= e).Build();
        try { admin.GetMetadata(TimeSpan.FromSeconds(10)); }
        catch (KafkaException ex) { first ??= ex.Error; }
        Assert.NotNull(first);
        return first;
    }

    [Theory]
    [InlineData("PLAIN", "alice", SaslAgent.WrongPassword)]
    [InlineData("SCRAM-SHA-512", "alice", SaslAgent.WrongPassword)]
    [InlineData("SCRAM-SHA-256", "nobody", SaslAgent.WrongPassword)]
    [InlineData("PLAIN", "nobody", SaslAgent.WrongPassword)]
    [InlineData("SCRAM-SHA-512", "bob", SaslAgent.BobPassword)] // bob has no SCRAM-SHA-512 credential
    public async Task ConfluentKafka_WrongPasswordOrUnknownUser_AuthenticationFailed_OthersStillServed(string mechanism, string user, string password)
    {
        var error = FirstError(Sasl(mechanism, user, password));
        Assert.True(error.Code is ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication, $"{error.Code}: {error.Reason}");
        Assert.Contains("Authentication failed", error.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(user, error.Reason.Replace("SASL", "", StringComparison.Ordinal), StringComparison.Ordinal); // the reply does not name (or confirm) the user

        // Another client, with the right password, is served meanwhile.
        Assert.Equal(["v0"], await ProduceAndConsumeAsync(Sasl("SCRAM-SHA-512", "alice", SaslAgent.AlicePassword), Unique.Name("after-failure"), 1));

        // Counted in /v1/status, logged with the user and mechanism, and no password anywhere in the node's output.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{agent.Node.HttpPort}/v1/status"));
        var authentication = status.RootElement.GetProperty("authentication");
        Assert.True(authentication.GetProperty("kafkaFailures").GetInt64() >= 1);
        Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], authentication.GetProperty("kafkaSasl").EnumerateArray().Select(e => e.GetString()!));
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(agent.Node).Contains("Kafka authentication failed for user", StringComparison.Ordinal), TimeSpan.FromSeconds(10)));
        AssertNoPasswordLogged();
    }

    private void AssertNoPasswordLogged()
    {
        var logs = AgentUsers.AllLogs(agent.Node);
        foreach (var secret in new[] { SaslAgent.AlicePassword, SaslAgent.BobPassword, SaslAgent.AdminPassword, SaslAgent.WrongPassword })
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
    }

    [Fact]
    public void Kcat_ScramSha512_ProducesAndConsumes()
    {
        var topic = Unique.Name("kcat-sasl");
        string[] sasl = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=alice", "-X", $"sasl.password={SaslAgent.AlicePassword}"];
        var produce = ExternalTool.Run("kcat", ["-P", "-b", agent.Node.Bootstrap, "-t", topic, .. sasl], stdin: "one\ntwo\n", timeout: TimeSpan.FromSeconds(60));
        Assert.True(produce.ExitCode == 0, produce.Stderr);
        var consume = ExternalTool.Run("kcat", ["-C", "-b", agent.Node.Bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", .. sasl], timeout: TimeSpan.FromSeconds(60));
        Assert.True(consume.ExitCode == 0, consume.Stderr);
        Assert.Equal(["one", "two"], consume.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var refused = ExternalTool.Run("kcat", ["-L", "-b", agent.Node.Bootstrap, "-m", "10",
            "-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=alice", "-X", $"sasl.password={SaslAgent.WrongPassword}"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Authentication failed", refused.Stderr + refused.Stdout, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public void KafkaPython_Sasl_ProducesAndConsumes(string mechanism)
    {
        const string script = """
            import sys
            from kafka import KafkaProducer, KafkaConsumer, TopicPartition
            bootstrap, topic, mechanism, user, password = sys.argv[1:6]
            sasl = dict(security_protocol='SASL_PLAINTEXT', sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password=password)
            producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', **sasl)
            for i in range(3):
                producer.send(topic, value=b'py-%d' % i).get(timeout=30)
            producer.close()
            consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset='earliest',
                                     enable_auto_commit=False, consumer_timeout_ms=10000, **sasl)
            tp = TopicPartition(topic, 0)
            consumer.assign([tp])
            consumer.seek(tp, 0)
            for m in consumer:
                print(m.value.decode())
                if m.offset == 2:
                    break
            consumer.close()
            """;
        var file = Path.Combine(Path.GetTempPath(), $"edgestream-sasl-{Guid.NewGuid():N}.py");
        File.WriteAllText(file, script);
        try
        {
            var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3", [file, agent.Node.Bootstrap, Unique.Name("py-sasl"), mechanism, "alice", SaslAgent.AlicePassword],
                timeout: TimeSpan.FromSeconds(90));
            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
            Assert.Equal(["py-0", "py-1", "py-2"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task AdminClient_SuperUserAltersAndDescribesScramCredentials_NewUserAuthenticates()
    {
        var admin = Sasl("SCRAM-SHA-512", "admin", SaslAgent.AdminPassword);
        var user = Unique.Name("carol");
        const string carolPassword = "carol-Secret-31337";
        using (var client = new AdminClientBuilder(new AdminClientConfig(admin)).Build())
        {
            await client.AlterUserScramCredentialsAsync(
            [
                new UserScramCredentialUpsertion { User = user, Password = System.Text.Encoding.UTF8.GetBytes(carolPassword),
                    ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha256, Iterations = 4096 } },
            ]);
            var described = await client.DescribeUserScramCredentialsAsync([user, "alice"]);
            var carol = Assert.Single(described.UserScramCredentialsDescriptions, d => d.User == user);
            Assert.Equal(ScramMechanism.ScramSha256, Assert.Single(carol.ScramCredentialInfos).Mechanism);
            var alice = Assert.Single(described.UserScramCredentialsDescriptions, d => d.User == "alice");
            Assert.Equal(2, alice.ScramCredentialInfos.Count);
        }
        Assert.Equal(["v0"], await ProduceAndConsumeAsync(Sasl("SCRAM-SHA-256", user, carolPassword), Unique.Name("carol"), 1));

        // Not a super user: refused.
        using (var client = new AdminClientBuilder(new AdminClientConfig(Sasl("SCRAM-SHA-512", "alice", SaslAgent.AlicePassword))).Build())
        {
            var ex = await Assert.ThrowsAnyAsync<KafkaException>(() => client.DescribeUserScramCredentialsAsync(["alice"]));
            Assert.Contains("super", ex.Message + (ex is DescribeUserScramCredentialsException d ? d.Error.Reason : ""), StringComparison.OrdinalIgnoreCase);
        }
        using (var client = new AdminClientBuilder(new AdminClientConfig(admin)).Build())
            await client.AlterUserScramCredentialsAsync([new UserScramCredentialDeletion { User = user, Mechanism = ScramMechanism.ScramSha256 }]);
        var error = FirstError(Sasl("SCRAM-SHA-256", user, carolPassword));
        Assert.True(error.Code is ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication, $"{error.Code}: {error.Reason}");
    }

    [Fact]
    public async Task RawRequests_BeforeAuthentication_OnlyApiVersionsAndSaslAnswered()
    {
        // ApiVersions is answered and lists the SASL APIs.
        using (var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort))
        {
            await socket.SendAsync(RawKafka.Request((short)ApiKey.ApiVersions, 3, 1, new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }), SocketFlags.None);
            var versions = RawKafka.ReadResponse<ApiVersionsResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), ApiKey.ApiVersions, 3, 1);
            Assert.Contains(versions.ApiKeys, k => k.ApiKey == (short)ApiKey.SaslHandshake && k.MinVersion == 0 && k.MaxVersion == 1);
            Assert.Contains(versions.ApiKeys, k => k.ApiKey == (short)ApiKey.SaslAuthenticate && k.MaxVersion == 2);

            // An unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the ones offered; the connection stays.
            await socket.SendAsync(RawKafka.Request((short)ApiKey.SaslHandshake, 1, 2, new SaslHandshakeRequest { Mechanism = "GSSAPI" }), SocketFlags.None);
            var handshake = RawKafka.ReadResponse<SaslHandshakeResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), ApiKey.SaslHandshake, 1, 2);
            Assert.Equal(33, handshake.ErrorCode);
            Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], handshake.Mechanisms);

            // Metadata before authenticating: closed unanswered, as Kafka does.
            await socket.SendAsync(RawKafka.Request((short)ApiKey.Metadata, 1, 3, new MetadataRequest()), SocketFlags.None);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "Metadata before SASL: connection left open");
        }

        // SaslAuthenticate without a handshake: ILLEGAL_SASL_STATE, then closed.
        using (var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort))
        {
            await socket.SendAsync(RawKafka.Request((short)ApiKey.SaslAuthenticate, 1, 4, new SaslAuthenticateRequest { AuthBytes = [0, 97, 0, 98] }), SocketFlags.None);
            var response = RawKafka.ReadResponse<SaslAuthenticateResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), ApiKey.SaslAuthenticate, 1, 4);
            Assert.Equal(34, response.ErrorCode);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "after ILLEGAL_SASL_STATE: connection left open");
        }

        // A failed PLAIN: SASL_AUTHENTICATION_FAILED, then closed.
        using (var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort))
        {
            var response = await PlainAsync(socket, 5, SaslAgent.WrongPassword);
            Assert.Equal(58, response.ErrorCode);
            Assert.True(await ClosedByPeerAsync(socket, TimeSpan.FromSeconds(10)), "after a failed authentication: connection left open");
        }

        // A good PLAIN: session_lifetime_ms 0, then Metadata is answered on the same connection.
        using (var socket = await KafkaWire.ConnectAsync(agent.Node.KafkaPort))
        {
            var response = await PlainAsync(socket, 7, SaslAgent.AlicePassword);
            Assert.Equal(0, response.ErrorCode);
            Assert.Equal(0, response.SessionLifetimeMs);
            await socket.SendAsync(RawKafka.Request((short)ApiKey.Metadata, 1, 9, new MetadataRequest()), SocketFlags.None);
            var frame = await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10));
            Assert.Equal(9, BinaryPrimitives.ReadInt32BigEndian(frame));
        }
    }

    /// <summary>SaslHandshake v1 for PLAIN (correlation id <paramref name="correlationId"/>), then SaslAuthenticate v2 as alice (the next id).</summary>
    private static async Task<SaslAuthenticateResponse> PlainAsync(Socket socket, int correlationId, string password)
    {
        await socket.SendAsync(RawKafka.Request((short)ApiKey.SaslHandshake, 1, correlationId, new SaslHandshakeRequest { Mechanism = "PLAIN" }), SocketFlags.None);
        var handshake = RawKafka.ReadResponse<SaslHandshakeResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), ApiKey.SaslHandshake, 1, correlationId);
        Assert.Equal(0, handshake.ErrorCode);
        var token = System.Text.Encoding.UTF8.GetBytes("\0alice\0" + password);
        await socket.SendAsync(RawKafka.Request((short)ApiKey.SaslAuthenticate, 2, correlationId + 1, new SaslAuthenticateRequest { AuthBytes = token }), SocketFlags.None);
        return RawKafka.ReadResponse<SaslAuthenticateResponse>(await KafkaWire.ReadFrameAsync(socket, TimeSpan.FromSeconds(10)), ApiKey.SaslAuthenticate, 2, correlationId + 1);
    }

    private static Task<bool> ClosedByPeerAsync(Socket socket, TimeSpan timeout) => KafkaWire.ClosedByPeerAsync(socket, timeout);
}

/// <summary>SASL_SSL: SCRAM over TLS with a certificate from <c>edgestream certs</c>.</summary>
public sealed class SaslSslTests
{
    [Fact]
    public async Task ConfluentKafka_SaslSslScram_ProducesAndConsumes()
    {
        using var dir = new TempDirectory();
        foreach (var args in new[] { new[] { "certs", "init", "--dir", dir.Combine("ca") }, ["certs", "issue", "edge-1", "--ca", dir.Combine("ca"), "--out", dir.Combine("certs"), "--host", "127.0.0.1"] })
        {
            var (code, stdout, stderr) = await AgentProcess.RunToExitAsync(dir.Path, args);
            Assert.True(code == 0, $"{string.Join(' ', args)}: exit {code}\n{stdout}\n{stderr}");
        }
        var data = dir.Combine("data");
        AgentUsers.Add(data, "alice", SaslAgent.AlicePassword);
        await using var node = await AgentNode.StartAsync(data, "edge", "--node-id", "edge-1", "--kafka-sasl", "scram-sha-512",
            "--tls-cert", dir.Combine("certs", "edge-1.crt"), "--tls-key", dir.Combine("certs", "edge-1.key"));
        var config = new ClientConfig
        {
            BootstrapServers = node.Bootstrap,
            BrokerAddressFamily = BrokerAddressFamily.V4,
            SecurityProtocol = SecurityProtocol.SaslSsl,
            SslCaLocation = dir.Combine("certs", "ca.crt"),
            SaslMechanism = SaslMechanism.ScramSha512,
            SaslUsername = "alice",
            SaslPassword = SaslAgent.AlicePassword,
        };
        var topic = Unique.Name("sasl-ssl");
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(config)).Build())
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "over-tls" });
        var consume = ExternalTool.Run("kcat", ["-C", "-b", node.Bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
            "-X", "security.protocol=SASL_SSL", "-X", $"ssl.ca.location={dir.Combine("certs", "ca.crt")}", "-X", "sasl.mechanisms=SCRAM-SHA-512",
            "-X", "sasl.username=alice", "-X", $"sasl.password={SaslAgent.AlicePassword}"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(consume.ExitCode == 0, consume.Stderr);
        Assert.Equal(["over-tls"], consume.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(SaslAgent.AlicePassword, AgentUsers.AllLogs(node), StringComparison.Ordinal);
    }
}
