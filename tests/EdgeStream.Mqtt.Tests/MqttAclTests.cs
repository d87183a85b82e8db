using System.Text.Json;
using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// <c>--authorizer on</c> for MQTT: the Kafka ACLs (from <c>edgestream acls</c>) on the log topic an MQTT
/// topic maps to; refusals with MQTT 5's 0x87 and 3.1.1's SUBACK 0x80.
/// </summary>
public sealed class MqttAclTests
{
    private const string SensorPassword = "sensor-Acl-Secret-2718";
    private const string IntruderPassword = "intruder-Acl-Secret-1618";

    private static void AddAcl(string data, params string[] args) => AgentAcls.Add(data, args);

    private static async Task<IMqttClient> ConnectAsync(int port, string user, string password, MqttProtocolVersion version)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(version)
            .WithClientId(Mqtt.ClientId("acl")).WithCredentials(user, password).WithTimeout(TimeSpan.FromSeconds(10)).Build());
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return client;
    }

    private static Task<MqttClientPublishResult> PublishAsync(IMqttClient client, string topic, string payload) =>
        client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    /// <summary>MQTT 5 PUBACK for a kept message: success, or 0x10 when nobody subscribes (it is in the log all the same).</summary>
    private static void AssertAccepted(MqttClientPublishResult result) =>
        Assert.True(result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers, result.ReasonCode.ToString());

    private static async Task<MqttClientSubscribeResultCode> SubscribeAsync(IMqttClient client, string filter)
    {
        var result = await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());
        return Assert.Single(result.Items).ResultCode;
    }

    [Fact]
    public async Task MqttAcls_WriteAndReadOnMappedTopic_Served_OthersRefusedWithSpecCodes()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        AgentUsers.Add(data, "sensor", SensorPassword, "--mechanism", "scram-sha-256");
        AgentUsers.Add(data, "intruder", IntruderPassword, "--mechanism", "scram-sha-256");
        AddAcl(data, "--principal", "User:sensor", "--operation", "write", "read", "--topic", "plant");
        // This test's Kafka reader connects without SASL, as User:ANONYMOUS.
        AddAcl(data, "--principal", "User:ANONYMOUS", "--operation", "read", "--topic", "plant");
        // LogReader's consumer names a group, so librdkafka asks for its coordinator: Describe on the group, as in Kafka.
        AddAcl(data, "--principal", "User:ANONYMOUS", "--operation", "describe", "--group", "edgestream-tests");
        await using var node = await AgentNode.StartAsync(data, "edge", "--partitions", "1", "--mqtt-auth", "required", "--authorizer", "on",
            "--mqtt-map", "plant/#=plant");

        // MQTT 5: sensor may write plant/... (log topic plant); its publish is acknowledged and logged.
        using var sensor = await ConnectAsync(node.MqttPort, "sensor", SensorPassword, MqttProtocolVersion.V500);
        AssertAccepted(await PublishAsync(sensor, "plant/a", "allowed"));
        Assert.Equal(["allowed"], Mqtt.ReadLog(node.Bootstrap, 1, "plant").Select(r => r.Text));
        // ... but not topics mapped to the default log topic 'mqtt': PUBACK 0x87.
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(sensor, "other/a", "unmapped")).ReasonCode);

        // MQTT 5: intruder has no ACL: PUBACK 0x87, SUBACK 0x87.
        using var intruder = await ConnectAsync(node.MqttPort, "intruder", IntruderPassword, MqttProtocolVersion.V500);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(intruder, "plant/a", "refused-v5")).ReasonCode);
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await SubscribeAsync(intruder, "plant/#"));

        // MQTT 3.1.1: SUBACK 0x80; a refused QoS 1 PUBLISH is acknowledged and dropped.
        using var intruder311 = await ConnectAsync(node.MqttPort, "intruder", IntruderPassword, MqttProtocolVersion.V311);
        Assert.Equal(MqttClientSubscribeResultCode.UnspecifiedError, await SubscribeAsync(intruder311, "plant/#"));
        await PublishAsync(intruder311, "plant/a", "refused-v311");

        // sensor may subscribe and receives what is published on the mapped topics.
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        sensor.ApplicationMessageReceivedAsync += e =>
        {
            received.TrySetResult(e.ApplicationMessage.ConvertPayloadToString());
            return Task.CompletedTask;
        };
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await SubscribeAsync(sensor, "plant/#"));
        AssertAccepted(await PublishAsync(sensor, "plant/b", "to-subscriber"));
        Assert.Equal("to-subscriber", await received.Task.WaitAsync(TimeSpan.FromSeconds(30)));

        // Nothing refused reached the log; the node served the allowed client throughout.
        Assert.Equal(["allowed", "to-subscriber"], Mqtt.ReadLogToEnd(node.Bootstrap, "plant").Select(r => r.Text));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/status"));
        Assert.True(status.RootElement.GetProperty("authentication").GetProperty("mqttAclDenials").GetInt64() >= 5);
        // The first denial (sensor's, on 'mqtt') is logged; those within the next second are counted only.
        Assert.True(await Wait.UntilAsync(() => AgentUsers.AllLogs(node).Contains("MQTT ACL denied User:sensor", StringComparison.Ordinal), TimeSpan.FromSeconds(10)));
    }
}
