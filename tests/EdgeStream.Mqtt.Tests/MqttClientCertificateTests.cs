using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// Client certificates on the MQTT listener: mosquitto clients presenting one from the fleet CA are
/// authenticated as its principal (for ACLs too) without a password; <c>--tls-client-auth required</c>
/// turns away, at the TLS handshake, a client without one (openssl s_client).
/// </summary>
public sealed class MqttClientCertificateTests
{
    [Fact]
    public async Task Mosquitto_CertificatePrincipal_AllowedTopicDelivered_TopicWithoutAclRefused()
    {
        using var dir = new TempDirectory();
        var fleet = AgentCertificates.ForNode(dir.Combine("fleet"), "edge-1", "sensor");
        var data = dir.Combine("data");
        AgentAcls.Add(data, "--principal", "User:sensor", "--operation", "write", "read", "--topic", "plant");
        // --mqtt-auth required: a client gets in with a password or a certificate; this one has no users at all.
        await using var node = await AgentNode.StartAsync(data, "edge", ["--node-id", "edge-1", .. fleet.NodeFlags("edge-1"),
            "--mqtt-auth", "required", "--authorizer", "on", "--mqtt-map", "plant/#=plant"]);
        string[] server = ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "--cafile", fleet.Ca];
        string[] certificate = ["--cafile", fleet.Ca, "--cert", fleet.Certificate("sensor"), "--key", fleet.Key("sensor")];
        string[] sensor = [.. server, .. certificate];

        var sub = await MosquittoSubscriber.StartAsync(node.MqttPort, "plant/#", "plant/ping", certificate);
        var lines = sub.Lines;
        try
        {
            Mqtt.Publish(node.MqttPort, "plant/line1", "hello", 1, certificate);
            // A user name and password besides the certificate are ignored (mosquitto's use_identity_as_username): still the sensor.
            Mqtt.Publish(node.MqttPort, "plant/line1", "with-password", 1, [.. certificate, "-u", "intruder", "-P", "not-a-user-Secret-31"]);
            Assert.True(await Wait.UntilAsync(() => lines.Contains("plant/line1 hello") && lines.Contains("plant/line1 with-password"),
                TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), string.Join('\n', lines));
        }
        finally
        {
            await sub.DisposeAsync();
        }

        // Topics the sensor has no ACL for (other/# maps to the log topic mqtt): MQTT 5 PUBACK 0x87, SUBACK refused.
        var publish = ExternalTool.Run("mosquitto_pub", [.. sensor, "-t", "other/x", "-m", "no", "-q", "1", "-V", "mqttv5"], timeout: TimeSpan.FromSeconds(30));
        Assert.Contains("Not authorized", publish.Stderr);
        var subscribe = ExternalTool.Run("mosquitto_sub", [.. sensor, "-t", "other/#", "-q", "1", "-W", "10"], timeout: TimeSpan.FromSeconds(30));
        Assert.Contains("All subscription requests were denied", subscribe.Stderr);
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(node).Contains("MQTT ACL denied User:sensor", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
            "the refusal names the certificate's principal");

        // Neither a certificate nor a password: refused at CONNECT (3.1.1 return code 5).
        var anonymous = ExternalTool.Run("mosquitto_pub", [.. server, "-t", "plant/line1", "-m", "anonymous", "-q", "1"], timeout: TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("not authorised", anonymous.Stderr);
    }

    [Fact]
    public async Task TlsClientAuthRequired_OpensslWithoutCertificateRefused_WithOneConnected()
    {
        using var dir = new TempDirectory();
        var fleet = AgentCertificates.ForNode(dir.Combine("fleet"), "edge-1", "device");
        var rogue = AgentCertificates.Create(dir.Combine("rogue"));
        rogue.Issue("device");
        await using var node = await AgentNode.StartAsync(dir.Combine("data"), "edge", ["--node-id", "edge-1", .. fleet.NodeFlags("edge-1"), "--tls-client-auth", "required"]);

        // An MQTT 3.1.1 CONNECT (client id "c", clean session, keep-alive 1 s, so the node closes an idle
        // connection ~1.5 s after accepting it and s_client, reading on past stdin's end, exits).
        const string Connect = "\u0010\u000d\u0000\u0004MQTT\u0004\u0002\u0000\u0001\u0000\u0001c";
        const string ConnAckAccepted = "\u0020\u0002\u0000\u0000";
        string SClient(params string[] certificate) => ExternalTool.Run("openssl",
            ["s_client", "-connect", $"127.0.0.1:{node.MqttPort}", "-CAfile", fleet.Ca, "-verify_return_error", "-quiet", "-ign_eof", .. certificate],
            stdin: Connect, timeout: TimeSpan.FromSeconds(30)).Stdout;

        Assert.DoesNotContain(ConnAckAccepted, SClient(), StringComparison.Ordinal);
        Assert.DoesNotContain(ConnAckAccepted, SClient("-cert", rogue.Certificate("device"), "-key", rogue.Key("device")), StringComparison.Ordinal);
        Assert.Contains(ConnAckAccepted, SClient("-cert", fleet.Certificate("device"), "-key", fleet.Key("device")), StringComparison.Ordinal);
    }
}
