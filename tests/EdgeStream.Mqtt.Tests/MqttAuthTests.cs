using EdgeStream.TestSupport;
using MQTTnet;
using MQTTnet.Formatter;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// <c>--mqtt-auth required</c>: MQTT clients give the user name and password of a user made by
/// <c>edgestream users add</c> (the same users as Kafka SASL); others are refused with the spec's codes.
/// </summary>
public sealed class MqttAuthTests
{
    private const string Password = "mqtt-Secret-2718";
    private const string WrongPassword = "wrong-Secret-1618";

    private static async Task<MqttClientConnectResultCode> ConnectMqtt5Async(int port, string? user, string? password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(Mqtt.ClientId("auth")).WithTimeout(TimeSpan.FromSeconds(10));
        if (user is not null) options = options.WithCredentials(user, password);
        // MQTTnet 5 reports a refused CONNECT in the result rather than throwing.
        var result = await client.ConnectAsync(options.Build());
        if (result.ResultCode == MqttClientConnectResultCode.Success) await client.DisconnectAsync();
        return result.ResultCode;
    }

    private static (int ExitCode, string Output) Publish(int port, string topic, string message, params string[] credentials)
    {
        var (code, stdout, stderr) = ExternalTool.Run("mosquitto_pub",
            ["-h", "127.0.0.1", "-p", port.ToString(), "-i", Mqtt.ClientId("pub"), "-t", topic, "-m", message, "-q", "1", .. credentials],
            timeout: TimeSpan.FromSeconds(30));
        return (code, stdout + stderr);
    }

    [Fact]
    public async Task MqttAuthRequired_RightPasswordServed_WrongOrMissingRefusedWithSpecCodes()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        AgentUsers.Add(data, "sensor", Password, "--mechanism", "scram-sha-256");
        await using var node = await AgentNode.StartAsync(data, "edge", "--partitions", "1", "--mqtt-auth", "required");

        // mosquitto_pub (MQTT 3.1.1 by default): the right password publishes, into the log.
        var ok = Publish(node.MqttPort, "plant/a", "with-password", "-u", "sensor", "-P", Password);
        Assert.True(ok.ExitCode == 0, ok.Output);
        Assert.Equal(["with-password"], Mqtt.ReadLog(node.Bootstrap, 1).Select(r => r.Text));

        // 3.1.1: a wrong password is CONNACK 4, no credentials CONNACK 5; mosquitto says so and exits non-zero.
        var wrong = Publish(node.MqttPort, "plant/a", "wrong", "-u", "sensor", "-P", WrongPassword);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("bad user name or password", wrong.Output, StringComparison.OrdinalIgnoreCase);
        var unknown = Publish(node.MqttPort, "plant/a", "unknown", "-u", "nobody", "-P", Password);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("bad user name or password", unknown.Output, StringComparison.OrdinalIgnoreCase);
        var anonymous = Publish(node.MqttPort, "plant/a", "anonymous");
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("not authorised", anonymous.Output, StringComparison.OrdinalIgnoreCase);

        // mosquitto_sub with the right password receives.
        using (var sub = ExternalTool.Start("mosquitto_sub", ["-h", "127.0.0.1", "-p", node.MqttPort.ToString(), "-t", "plant/b", "-C", "1", "-W", "30",
            "-u", "sensor", "-P", Password, "-i", Mqtt.ClientId("sub")]))
        {
            var received = sub.StandardOutput.ReadLineAsync();
            // The subscription is in place once a retained-free publish reaches it: publish until it does.
            Assert.True(await Wait.UntilAsync(() =>
            {
                if (received.IsCompleted) return true;
                Publish(node.MqttPort, "plant/b", "to-subscriber", "-u", "sensor", "-P", Password);
                return received.IsCompleted;
            }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200)));
            Assert.Equal("to-subscriber", await received);
        }

        // MQTT 5 (MQTTnet): 0x86 for a bad name or password, 0x87 without credentials, success with them.
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await ConnectMqtt5Async(node.MqttPort, "sensor", WrongPassword));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await ConnectMqtt5Async(node.MqttPort, null, null));
        Assert.Equal(MqttClientConnectResultCode.Success, await ConnectMqtt5Async(node.MqttPort, "sensor", Password));

        // Refusals are counted and logged; no password in anything the node wrote.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{node.HttpPort}/v1/status"));
        Assert.True(status.RootElement.GetProperty("authentication").GetProperty("mqttFailures").GetInt64() >= 4);
        var logs = AgentUsers.AllLogs(node);
        Assert.Contains("MQTT authentication failed for user 'sensor'", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongPassword, logs, StringComparison.Ordinal);
    }
}
