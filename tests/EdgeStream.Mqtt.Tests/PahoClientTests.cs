using System.Text.Json;
using EdgeStream.TestSupport;

namespace EdgeStream.Mqtt.Tests;

/// <summary>One agent for the Paho tests: every scenario keeps its topics and client ids under its own prefix.</summary>
public sealed class PahoAgentFixture() : SharedAgent(["--partitions", "1"]);

/// <summary>
/// The MQTT listener as Debian's python3-paho-mqtt (1.6) sees it: each test runs one scenario of
/// paho/paho_scenarios.py against a real agent and asserts on the JSON it prints.
/// </summary>
public sealed class PahoClientTests : IClassFixture<PahoAgentFixture>
{
    private readonly PahoAgentFixture _agent;

    public PahoClientTests(PahoAgentFixture agent) => _agent = agent;

    private JsonElement Run(string scenario, params string[] args) => RunScenario(_agent.Node, scenario, args);

    /// <summary>Runs one scenario of paho_scenarios.py against <paramref name="node"/>; the JSON it printed last.</summary>
    internal static JsonElement RunScenario(AgentNode node, string scenario, params string[] args)
    {
        var prefix = Mqtt.ClientId("paho").Replace("-", "", StringComparison.Ordinal);
        var script = Path.Combine(AppContext.BaseDirectory, "paho", "paho_scenarios.py");
        var (code, stdout, stderr) = ExternalTool.Run("/usr/bin/python3",
            [script, scenario, node.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), prefix, .. args],
            timeout: TimeSpan.FromSeconds(90));
        Assert.True(code == 0, $"paho scenario '{scenario}' exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}\nagent stderr:\n{node.Process.Stderr}");
        var lastLine = stdout.TrimEnd().Split('\n')[^1];
        using var document = JsonDocument.Parse(lastLine);
        return document.RootElement.Clone();
    }

    private static string[] Payloads(JsonElement messages) =>
        messages.EnumerateArray().Select(m => m.GetProperty("payload").GetString() ?? "").ToArray();

    [Theory]
    [InlineData("311")]
    [InlineData("5")]
    public void Paho_Qos012_DeliveredWithPayloadAndQos(string version)
    {
        var result = Run("qos", version);

        Assert.Equal([2], result.GetProperty("granted").EnumerateArray().Select(e => e.GetInt32()));
        var messages = result.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["payload-q0", "payload-q1", "payload-q2"], messages.Select(m => m.GetProperty("payload").GetString()));
        Assert.Equal([0, 1, 2], messages.Select(m => m.GetProperty("qos").GetInt32()));
        Assert.All(messages, m => Assert.EndsWith("/qos/" + m.GetProperty("qos").GetInt32(), m.GetProperty("topic").GetString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("311")]
    [InlineData("5")]
    public void Paho_Retained_ReachesLateSubscriber_EmptyRetainedClearsIt(string version)
    {
        var result = Run("retained", version);

        var late = Assert.Single(result.GetProperty("late").EnumerateArray());
        Assert.Equal("open", late.GetProperty("payload").GetString());
        Assert.True(late.GetProperty("retain").GetBoolean(), "a retained message sent on SUBSCRIBE has the retain flag");
        // Only the probe: the cleared retained message is not sent to the next subscriber.
        Assert.Equal(["probe"], Payloads(result.GetProperty("after_clear")));
    }

    [Theory]
    [InlineData("311")]
    [InlineData("5")]
    public void Paho_Will_PublishedOnAbruptDisconnect_NotOnCleanDisconnect(string version)
    {
        var result = Run("will", version);

        var events = Payloads(result.GetProperty("events"));
        var killed = Assert.Single(events, e => e.StartsWith("gone:", StringComparison.Ordinal));
        Assert.EndsWith("-killed", killed, StringComparison.Ordinal);
        Assert.Equal("probe", events[^1]);
    }

    // MQTTnet 5.2 ignores the will delay (it publishes the will as soon as the connection drops);
    // MqttWillDelay holds it back. The scenario passes against mosquitto 2.0.11 too.
    [Fact]
    public void Paho_V5WillDelay_WillAfterDelay_CancelledByReconnectWithinDelay()
    {
        var result = Run("will-delay");

        var events = result.GetProperty("events").EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
        // The probe published 0.5 s after the kill comes before the will (delay 2 s); the client
        // that came back within its delay never has its will published.
        Assert.True(events.Length == 4, "events: " + string.Join(", ", events));
        Assert.Equal("probe-1", events[0]);
        Assert.StartsWith("gone:", events[1], StringComparison.Ordinal);
        Assert.EndsWith("-delayed", events[1], StringComparison.Ordinal);
        Assert.Equal(["probe-2", "probe-3"], events[2..]);
        Assert.True(result.GetProperty("reconnect_session_present").GetBoolean(), "the session with the pending will outlived the connection (expiry 300 s)");
    }

    // Needs MQTTnet's persistent sessions on in the agent (MqttServerOptions.EnablePersistentSessions,
    // off by default): without it MQTTnet deletes every session when its connection ends.
    [Theory]
    [InlineData("311")]
    [InlineData("5")]
    public void Paho_PersistentSession_GetsMessagesPublishedWhileOffline(string version)
    {
        var result = Run("session", version);

        Assert.False(result.GetProperty("first_session_present").GetBoolean());
        Assert.True(result.GetProperty("session_present").GetBoolean(), "CONNACK session present on reconnect (is EnablePersistentSessions on in the agent's MQTTnet options?)");
        var messages = result.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["offline-1", "offline-2", "offline-3"], messages.Select(m => m.GetProperty("payload").GetString()));
        Assert.All(messages, m => Assert.Equal(1, m.GetProperty("qos").GetInt32()));
    }

    [Fact]
    public void Paho_V5Properties_DeliveredEndToEnd_RequestResponseWorks()
    {
        var result = Run("properties");

        var m = result.GetProperty("message");
        Assert.Equal("{\"t\":21.5}", m.GetProperty("payload").GetString());
        Assert.Equal("application/json", m.GetProperty("content_type").GetString());
        Assert.Equal(1, m.GetProperty("payload_format").GetInt32());
        Assert.EndsWith("/props/reply", m.GetProperty("response_topic").GetString(), StringComparison.Ordinal);
        Assert.Equal("corr-42", m.GetProperty("correlation_data").GetString());
        Assert.Equal([["site", "plant-7"], ["line", "3"]],
            m.GetProperty("user_properties").EnumerateArray().Select(p => p.EnumerateArray().Select(s => s.GetString()).ToArray()));

        var reply = Assert.Single(result.GetProperty("reply").EnumerateArray());
        Assert.Equal("pong:ping", reply.GetProperty("payload").GetString());
        Assert.Equal("req-1", reply.GetProperty("correlation_data").GetString());
    }

    // MQTTnet 5.2 neither drops expired messages nor lowers the interval it forwards; MqttMessageExpiry
    // does both in the outbound hook. The scenario passes against mosquitto 2.0.11 too.
    [Fact]
    public void Paho_V5MessageExpiry_ExpiredMessageNotDelivered()
    {
        var result = Run("expiry");

        Assert.True(result.GetProperty("session_present").GetBoolean());
        var queued = Assert.Single(result.GetProperty("queued").EnumerateArray());
        Assert.Equal("long", queued.GetProperty("payload").GetString());
        // MQTT 5 §3.3.2.3.3: the server sends the remaining lifetime, never more than was set.
        var remaining = queued.GetProperty("message_expiry").GetInt32();
        // It waited at least 2.5 s in the session queue: the interval forwarded is lower than the 300 s set.
        Assert.InRange(remaining, 1, 299);
        Assert.Equal(["probe"], Payloads(result.GetProperty("retained")));
    }

    [Fact]
    public void Paho_V5TopicAlias_SecondPublishByAliasOnly_SubscriberSeesTopic()
    {
        var result = Run("alias");

        Assert.True(result.GetProperty("topic_alias_maximum").GetInt32() >= 1, "CONNACK offers topic aliases");
        var messages = result.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["first", "second"], messages.Select(m => m.GetProperty("payload").GetString()));
        Assert.All(messages, m => Assert.EndsWith("/alias/t", m.GetProperty("topic").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Paho_V5SubscriptionIdentifiers_OnDelivery()
    {
        var result = Run("subid");

        var byPayload = result.GetProperty("messages").EnumerateArray()
            .ToDictionary(m => m.GetProperty("payload").GetString()!, m => m.GetProperty("subscription_ids").EnumerateArray().Select(i => i.GetInt32()).ToArray());
        Assert.Equal([42], byPayload["to-a"]);
        Assert.Equal([7], byPayload["to-b"]);
    }

    internal static void AssertSharedScenario(JsonElement result)
    {
        Assert.All(result.GetProperty("granted").EnumerateArray(), g => Assert.Equal([1], g.EnumerateArray().Select(e => e.GetInt32())));
        var members = result.GetProperty("members").EnumerateArray().Select(m => m.EnumerateArray().Select(p => p.GetString()!).ToList()).ToList();
        var all = members.SelectMany(m => m).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}").Order(StringComparer.Ordinal), all.Order(StringComparer.Ordinal));
        Assert.All(members, m => Assert.NotEmpty(m));
    }

    [Fact]
    public void Paho_V5NoLocal_OwnMessagesNotEchoed()
    {
        var result = Run("nolocal");

        Assert.Equal(["from-b"], result.GetProperty("a").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["from-a", "from-b"], result.GetProperty("b").EnumerateArray().Select(e => e.GetString()).Order(StringComparer.Ordinal));
    }
}
