using System.Text;
using Confluent.Kafka;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// TLS with certificates from <c>edgestream certs</c>: every listener of a node with <c>--tls-cert</c>
/// speaks TLS to real clients that trust the fleet CA (kcat, Confluent.Kafka, mosquitto_pub, curl)
/// and refuses clear text; between tiers, mutual TLS: a parent forwards a child's data only when the
/// child's certificate, issued by the fleet CA, names the node the child claims to be.
/// </summary>
public sealed class TlsTests
{
    private ClientConfig Ssl(TlsFleet fleet, AgentNode node) => new()
    {
        BootstrapServers = node.Bootstrap,
        BrokerAddressFamily = BrokerAddressFamily.V4,
        SecurityProtocol = SecurityProtocol.Ssl,
        SslCaLocation = fleet.Ca,
    };

    [Fact]
    public async Task NodeWithCertificate_KafkaMqttHttpOverTls_ClearTextRefused()
    {
        using var fleet = await TlsFleet.CreateAsync("edge-1");
        await using var edge = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge", ["--node-id", "edge-1", .. fleet.Flags("edge-1")]);

        // Kafka over SSL: kcat produces, Confluent.Kafka reads back.
        var kcat = ExternalTool.Run("kcat", ["-P", "-b", edge.Bootstrap, "-t", "tls", "-X", "security.protocol=ssl", "-X", $"ssl.ca.location={fleet.Ca}"],
            stdin: "one\ntwo\nthree\n", timeout: TimeSpan.FromSeconds(30));
        Assert.True(kcat.ExitCode == 0, kcat.Stderr);
        using (var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(Ssl(fleet, edge)) { GroupId = Unique.Name("g"), AutoOffsetReset = AutoOffsetReset.Earliest }).Build())
        {
            consumer.Subscribe("tls");
            var values = new List<string>();
            for (var i = 0; i < 300 && values.Count < 3; i++)
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r) values.Add(r.Message.Value);
            Assert.Equal(["one", "two", "three"], values);
        }

        // MQTT over TLS.
        var pub = ExternalTool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{edge.MqttPort}", "--cafile", fleet.Ca, "-t", "plant/line1", "-m", "over-tls", "-q", "1"],
            timeout: TimeSpan.FromSeconds(30));
        Assert.True(pub.ExitCode == 0, pub.Stderr);
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Count(fleet, edge, "mqtt") == 1), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)));

        // HTTPS, verified against the fleet CA (the certificate names 127.0.0.1).
        var curl = ExternalTool.Run("curl", ["-sS", "--cacert", fleet.Ca, $"https://127.0.0.1:{edge.HttpPort}/healthz"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(curl.ExitCode == 0 && curl.Stdout == "ok", curl.Stderr);

        // Clear text gets nowhere: not HTTP, not Kafka, not MQTT.
        Assert.NotEqual(0, ExternalTool.Run("curl", ["-sS", "-m", "5", $"http://127.0.0.1:{edge.HttpPort}/healthz"], timeout: TimeSpan.FromSeconds(30)).ExitCode);
        using (var plain = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = edge.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4, MessageTimeoutMs = 3000 }).Build())
            await Assert.ThrowsAsync<ProduceException<Null, string>>(() => plain.ProduceAsync("tls", new Message<Null, string> { Value = "clear" }));
        Assert.NotEqual(0, ExternalTool.Run("mosquitto_pub", ["-h", "127.0.0.1", "-p", $"{edge.MqttPort}", "-t", "plant/line1", "-m", "clear", "-q", "1"],
            timeout: TimeSpan.FromSeconds(30)).ExitCode);
        Assert.Equal(3, Count(fleet, edge, "tls"));
        Assert.Equal(1, Count(fleet, edge, "mqtt"));
    }

    [Fact]
    public async Task MutualTls_EdgeToGateway_OnlyTheCertificatesOwnNodeIdIsForwarded()
    {
        using var fleet = await TlsFleet.CreateAsync("gw-1", "edge-1", "edge-2");
        await using var gateway = await AgentNode.StartAsync(fleet.Dir.Combine("gw"), "gateway", ["--node-id", "gw-1", .. fleet.Flags("gw-1")]);
        await using var edge = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge",
            ["--node-id", "edge-1", "--parent", $"127.0.0.1:{gateway.UplinkPort}", .. fleet.Flags("edge-1")]);
        // An edge that claims to be edge-3 while holding edge-2's certificate.
        await using var impostor = await AgentNode.StartAsync(fleet.Dir.Combine("impostor"), "edge",
            ["--node-id", "edge-3", "--parent", $"127.0.0.1:{gateway.UplinkPort}", .. fleet.Flags("edge-2")]);

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Ssl(fleet, edge))).Build())
            for (var i = 0; i < 100; i++) await producer.ProduceAsync("readings", new Message<Null, string> { Value = $"edge-1 #{i}" });
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Ssl(fleet, impostor))).Build())
            await producer.ProduceAsync("forged", new Message<Null, string> { Value = "as edge-3" });

        // edge-1's records arrive over mutual TLS, with their origin.
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Count(fleet, gateway, "readings") == 100), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)),
            $"gateway holds {Count(fleet, gateway, "readings")} of 100");
        var origins = ExternalTool.Run("kcat", ["-C", "-b", gateway.Bootstrap, "-t", "readings", "-o", "beginning", "-e", "-f", "%h\n",
            "-X", "security.protocol=ssl", "-X", $"ssl.ca.location={fleet.Ca}"], timeout: TimeSpan.FromSeconds(30));
        Assert.All(origins.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), h => Assert.Contains("es.origin.node=edge-1", h));

        // The impostor is refused, saying whose certificate it holds, and nothing of it is written.
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(gateway.Process.Stdout.Contains("the client certificate is node edge-2's, not edge-3's", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)), gateway.Process.Stdout);
        Assert.Equal(0, Count(fleet, gateway, "forged"));
    }

    [Fact]
    public async Task MutualTls_CertificateFromAnotherCaOrExpired_Refused_OthersForwarded()
    {
        using var fleet = await TlsFleet.CreateAsync("gw-1", "edge-1");
        using var foreign = await TlsFleet.CreateAsync("edge-2");
        await using var gateway = await AgentNode.StartAsync(fleet.Dir.Combine("gw"), "gateway", ["--node-id", "gw-1", .. fleet.Flags("gw-1")]);
        string[] parent = ["--parent", $"127.0.0.1:{gateway.UplinkPort}", "--uplink-max-backoff", "1s"];
        await using var edge = await AgentNode.StartAsync(fleet.Dir.Combine("edge"), "edge", ["--node-id", "edge-1", .. parent, .. fleet.Flags("edge-1")]);
        // edge-2's certificate names it, but another CA signed it; it trusts the gateway's CA, so only the gateway can refuse.
        string[] foreignFlags = ["--tls-cert", foreign.Certificate("edge-2"), "--tls-key", foreign.Key("edge-2"), "--tls-ca", fleet.Ca];
        await using var stranger = await AgentNode.StartAsync(fleet.Dir.Combine("stranger"), "edge", ["--node-id", "edge-2", .. parent, .. foreignFlags]);
        // edge-3's certificate is from the fleet CA but expired a minute ago.
        await using var expired = await AgentNode.StartAsync(fleet.Dir.Combine("expired"), "edge", ["--node-id", "edge-3", .. parent, .. fleet.ExpiredFlags("edge-3", fleet)]);

        foreach (var (node, topic) in new[] { (edge, "ok"), (stranger, "foreign"), (expired, "expired") })
        {
            // The refused edges' own certificates do not verify either: the producer skips the check (loopback, test data).
            using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
            {
                BootstrapServers = node.Bootstrap, BrokerAddressFamily = BrokerAddressFamily.V4,
                SecurityProtocol = SecurityProtocol.Ssl, EnableSslCertificateVerification = false,
            }).Build();
            for (var i = 0; i < 10; i++) await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"{topic} #{i}" });
        }

        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Count(fleet, gateway, "ok") == 10), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250)),
            $"gateway holds {Count(fleet, gateway, "ok")} of edge-1's 10");
        // Both refused edges tried again and again (the handshake fails each time) and never connected.
        foreach (var refused in new[] { stranger, expired })
        {
            var (tried, status) = await Wait.UntilAsync(refused.StatusAsync,
                s => s.GetProperty("uplinkSender").GetProperty("reconnects").GetInt64() >= 3, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250));
            Assert.True(tried, status.ToString());
            Assert.False(status.GetProperty("uplinkSender").GetProperty("connected").GetBoolean());
            Assert.Equal(0, status.GetProperty("uplinkSender").GetProperty("recordsAcked").GetInt64());
        }
        Assert.Equal(0, Count(fleet, gateway, "foreign"));
        Assert.Equal(0, Count(fleet, gateway, "expired"));
        Assert.Equal(10, Count(fleet, gateway, "ok"));
    }

    [Fact]
    public async Task TlsSettings_Incomplete_RefusedAtStartWithTheReason()
    {
        using var fleet = await TlsFleet.CreateAsync("gw-1");
        var flags = fleet.Flags("gw-1");
        async Task<string> StartFailsAsync(string role, params string[] args)
        {
            var (code, stdout, stderr) = await AgentProcess.RunToExitAsync(fleet.Dir.Path,
                ["run", "--role", role, "--data", fleet.Dir.Combine(Unique.Name("d")), .. AgentProcess.RunArgs(AgentProcess.FreePort()).Skip(1),
                 "--mdns", "off", "--gossip", $"127.0.0.1:{AgentProcess.FreePort()}", .. args]);
            Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
            return stderr;
        }

        Assert.Contains("and --tls-key go together", await StartFailsAsync("edge", flags[0], flags[1]));
        Assert.Contains("needs --tls-cert", await StartFailsAsync("edge", "--tls-ca", fleet.Ca));
        // A certificate file that is not there: exit 1 with the file named, no stack trace.
        var (code, _, stderr) = await AgentProcess.RunToExitAsync(fleet.Dir.Path, ["run", "--data", fleet.Dir.Combine("nofile"),
            .. AgentProcess.RunArgs(AgentProcess.FreePort()).Skip(1), "--mdns", "off", "--gossip", $"127.0.0.1:{AgentProcess.FreePort()}",
            "--tls-cert", fleet.Dir.Combine("missing.crt"), "--tls-key", flags[3]]);
        Assert.Equal(1, code);
        Assert.Contains("missing.crt: no such file", stderr);
        Assert.DoesNotContain("   at ", stderr);
        // A parent must be able to check its children's certificates.
        Assert.Contains("needs --tls-ca", await StartFailsAsync("gateway", flags[0], flags[1], flags[2], flags[3], "--uplink", $"127.0.0.1:{AgentProcess.FreePort()}"));
    }

    /// <summary>Records in <paramref name="topic"/> of <paramref name="node"/>, read over SSL (0 when the topic does not exist).</summary>
    private static long Count(TlsFleet fleet, AgentNode node, string topic)
    {
        var result = ExternalTool.Run("kcat", ["-C", "-b", node.Bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "x\n",
            "-X", "security.protocol=ssl", "-X", $"ssl.ca.location={fleet.Ca}"], timeout: TimeSpan.FromSeconds(30));
        return result.ExitCode == 0 ? result.Stdout.Count(c => c == 'x') : 0;
    }
}
