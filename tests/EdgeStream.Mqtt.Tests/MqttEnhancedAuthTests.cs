using System.Text.Json;
using EdgeStream.Common.Security;
using EdgeStream.Kafka.Client;
using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// MQTT 5 enhanced authentication (§4.12) in the own broker core: SCRAM-SHA-256/512 against the
/// users of <c>edgestream users add</c>, with MQTTnet's client and the project's SCRAM client code.
/// </summary>
public sealed class MqttEnhancedAuthTests
{
    private const string Password = "scram-Secret-3141";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>The client side of SCRAM in MQTTnet's enhanced authentication handler: client-final for AUTH 0x18, server-final checked on AUTH 0x00.</summary>
    private sealed class ScramHandler(ScramClient scram) : IMqttEnhancedAuthenticationHandler
    {
        public ScramClient Scram { get; set; } = scram;

        /// <summary>Completed by a re-authentication's AUTH 0x00 whose server-final verified.</summary>
        public TaskCompletionSource Reauthenticated { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task HandleEnhancedAuthenticationAsync(MqttEnhancedAuthenticationEventArgs e)
        {
            if (e.ReasonCode == MqttAuthenticateReasonCode.ContinueAuthentication)
            {
                await e.SendAsync(new SendMqttEnhancedAuthenticationDataOptions { Data = Scram.ClientFinal(e.AuthenticationData) }, e.CancellationToken);
                return;
            }
            Scram.VerifyServerFinal(e.AuthenticationData);
            Reauthenticated.TrySetResult();
        }
    }

    private static MqttClientOptions Options(int port, string method, byte[]? data, ScramHandler? handler) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(Mqtt.ClientId("scram")).WithEnhancedAuthentication(method, data).WithEnhancedAuthenticationHandler(handler)
            .WithTimeout(TimeSpan.FromSeconds(10)).Build();

    /// <summary>Connects as <paramref name="user"/> with SCRAM; the result and the client (connected on success).</summary>
    private static async Task<(MqttClientConnectResult Result, IMqttClient Client, ScramHandler Handler)> ConnectScramAsync(
        int port, ScramMechanism mechanism, string user, string password)
    {
        var scram = new ScramClient(mechanism, user, password);
        var handler = new ScramHandler(scram);
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(Options(port, mechanism.Name, scram.ClientFirst(), handler));
        return (result, client, handler);
    }

    /// <summary>
    /// Connects as sensor, asserting CONNACK 0x00 with the method and a server-final that proves the
    /// node holds sensor's credential.
    /// </summary>
    private static async Task<(IMqttClient Client, ScramHandler Handler)> ConnectSensorAsync(int port, ScramMechanism mechanism)
    {
        var (result, client, handler) = await ConnectScramAsync(port, mechanism, "sensor", Password);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        Assert.Equal(mechanism.Name, result.AuthenticationMethod);
        handler.Scram.VerifyServerFinal(result.AuthenticationData);
        return (client, handler);
    }

    /// <summary>A node on the own core requiring authentication, with user sensor (ACL: write and read log topic plant, MQTT plant/#).</summary>
    private static Task<AgentNode> StartWithSensorAsync(TempDirectory dir)
    {
        var data = dir.Combine("data");
        // Both mechanisms (the default), as for Kafka clients.
        AgentUsers.Add(data, "sensor", Password);
        AgentAcls.Add(data, "--principal", "User:sensor", "--operation", "write", "read", "--topic", "plant");
        return MqttCoreTests.StartOwnAsync(dir, "--mqtt-auth", "required", "--authorizer", "on", "--mqtt-map", "plant/#=plant");
    }

    [Fact]
    public async Task Scram_UserConnects_ServerFinalVerifies_PublishesAndSubscribesUnderItsAcls_WrongPasswordAndUnknownMethodRefused()
    {
        using var dir = new TempDirectory();
        await using var node = await StartWithSensorAsync(dir);

        // SCRAM-SHA-512: CONNECT (client-first) → AUTH 0x18 (server-first) → AUTH 0x18 (client-final) → CONNACK 0x00 (server-final).
        var (sensor, _) = await ConnectSensorAsync(node.MqttPort, ScramMechanism.Sha512);
        using var _sensor = sensor;

        // The principal is User:sensor, as after a password login: its ACL lets it write and read 'plant', nothing else.
        var allowed = await sensor.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/a").WithPayload("via-scram")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(allowed.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers, allowed.ReasonCode.ToString());
        var refused = await sensor.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("other/a").WithPayload("unmapped")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, refused.ReasonCode);

        // A wrong password: the exchange runs to the proof and is refused 0x87; so is a user that does not exist.
        var (wrong, wrongClient, _) = await ConnectScramAsync(node.MqttPort, ScramMechanism.Sha256, "sensor", "wrong-" + Password);
        wrongClient.Dispose();
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, wrong.ResultCode);
        var (nobody, nobodyClient, _) = await ConnectScramAsync(node.MqttPort, ScramMechanism.Sha256, "nobody", Password);
        nobodyClient.Dispose();
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, nobody.ResultCode);

        // A method not offered: CONNACK 0x8C.
        using (var other = new MqttClientFactory().CreateMqttClient())
        {
            var unknown = await other.ConnectAsync(Options(node.MqttPort, "SCRAM-SHA-1", "n,,n=sensor,r=abc"u8.ToArray(), null));
            Assert.Equal(MqttClientConnectResultCode.BadAuthenticationMethod, unknown.ResultCode);
        }

        // The node served on: SCRAM-SHA-256 connects, subscribes and receives what sensor publishes.
        var (reader, _) = await ConnectSensorAsync(node.MqttPort, ScramMechanism.Sha256);
        using var _reader = reader;
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        var subscribed = await reader.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter("plant/#", MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, Assert.Single(subscribed.Items).ResultCode);
        await sensor.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/b").WithPayload("to-reader")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.Equal("to-reader", await received.Task.WaitAsync(Timeout));

        // Audited as password logins are: two successes and three failures counted, the failure logged with its method.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/status"));
        var authentication = status.RootElement.GetProperty("authentication");
        Assert.Equal(2, authentication.GetProperty("mqttSuccesses").GetInt64());
        Assert.Equal(3, authentication.GetProperty("mqttFailures").GetInt64());
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(node).Contains("MQTT authentication failed for user 'sensor'", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(Password, AgentUsers.AllLogs(node), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scram_ReAuthentication_SucceedsWithAuth00_WrongPasswordEndsConnectionWithDisconnect87()
    {
        using var dir = new TempDirectory();
        await using var node = await StartWithSensorAsync(dir);
        var (client, handler) = await ConnectSensorAsync(node.MqttPort, ScramMechanism.Sha256);
        using var _client = client;

        // AUTH 0x19 (client-first) → AUTH 0x18 (server-first) → AUTH 0x18 (client-final) → AUTH 0x00 (server-final, verified by the handler).
        handler.Scram = new ScramClient(ScramMechanism.Sha256, "sensor", Password);
        await client.SendEnhancedAuthenticationExchangeDataAsync(new MqttEnhancedAuthenticationExchangeData
        {
            ReasonCode = MqttAuthenticateReasonCode.ReAuthenticate,
            AuthenticationData = handler.Scram.ClientFirst(),
        });
        await handler.Reauthenticated.Task.WaitAsync(Timeout);
        // Still connected, still User:sensor.
        var published = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("plant/a").WithPayload("after-reauth")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        Assert.True(published.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers, published.ReasonCode.ToString());

        // A re-authentication with a wrong password: DISCONNECT 0x87 Not authorized.
        var disconnected = new TaskCompletionSource<MqttClientDisconnectReason>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.DisconnectedAsync += e =>
        {
            disconnected.TrySetResult(e.Reason);
            return Task.CompletedTask;
        };
        handler.Scram = new ScramClient(ScramMechanism.Sha256, "sensor", "wrong-" + Password);
        await client.SendEnhancedAuthenticationExchangeDataAsync(new MqttEnhancedAuthenticationExchangeData
        {
            ReasonCode = MqttAuthenticateReasonCode.ReAuthenticate,
            AuthenticationData = handler.Scram.ClientFirst(),
        });
        Assert.Equal(MqttClientDisconnectReason.NotAuthorized, await disconnected.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Auth_WithoutMethodInConnect_IsProtocolErrorDisconnect82()
    {
        using var dir = new TempDirectory();
        await using var node = await MqttCoreTests.StartOwnAsync(dir);
        using var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
        await raw.SendAsync(MqttPackets.Connect5("no-method", cleanStart: true));
        var connAck = await raw.ReadPacketAsync(Timeout);
        Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0, $"CONNACK 0 expected, got {connAck?.First:X2}");

        // §4.12: a client that named no Authentication Method in CONNECT must not send AUTH.
        await raw.SendAsync(MqttPackets.Auth5(0x19, MqttPackets.PropertyString(0x15, "SCRAM-SHA-256")));
        var disconnect = await raw.ReadPacketAsync(Timeout);
        Assert.True(disconnect is { Type: 14 }, $"DISCONNECT expected, got packet type {disconnect?.Type}");
        Assert.Equal(0x82, disconnect!.DisconnectReason);
        Assert.Null(await raw.ReadPacketAsync(Timeout));
    }

    [Fact]
    public async Task Auth_DuringConnectExchange_OtherMethodOrOtherPacket_RefusedWithConnAck82()
    {
        using var dir = new TempDirectory();
        await using var node = await StartWithSensorAsync(dir);
        foreach (var (what, id, packet) in new[]
        {
            ("AUTH naming another method", "raw-other-method", MqttPackets.Auth5(0x18, MqttPackets.PropertyString(0x15, "SCRAM-SHA-512"))),
            ("PUBLISH before the CONNACK", "raw-early-publish", MqttPackets.Publish5("plant/a", "early"u8.ToArray(), 0, 0)),
        })
        {
            using var raw = await RawMqttClient.ConnectAsync(node.MqttPort);
            var scram = new ScramClient(ScramMechanism.Sha256, "sensor", Password);
            await raw.SendAsync(MqttPackets.Connect5(id, cleanStart: true,
                MqttPackets.PropertyString(0x15, "SCRAM-SHA-256"), MqttPackets.PropertyBinary(0x16, scram.ClientFirst())));
            var serverFirst = await raw.ReadPacketAsync(Timeout);
            Assert.True(serverFirst is { Type: 15 } && serverFirst.Body[0] == 0x18, $"AUTH 0x18 expected, got packet type {serverFirst?.Type}");

            // §3.1.2.11.9: until the CONNACK only AUTH with the CONNECT's method (or DISCONNECT); no DISCONNECT may precede a CONNACK.
            await raw.SendAsync(packet);
            var connAck = await raw.ReadPacketAsync(Timeout);
            Assert.True(connAck is { Type: 2 } && connAck.ConnAckCode == 0x82, $"{what}: CONNACK 0x82 expected, got {connAck?.First:X2} {connAck?.Body.ElementAtOrDefault(1):X2}");
            Assert.Null(await raw.ReadPacketAsync(Timeout));
        }
    }
}
