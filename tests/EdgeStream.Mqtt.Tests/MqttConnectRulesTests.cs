using EdgeStream.Mqtt.Core;

namespace EdgeStream.Mqtt.Tests;

/// <summary>The own core's CONNECT header checks and keep-alive grant, without a network (no I/O in either).</summary>
public sealed class MqttConnectRulesTests
{
    private static byte[] Body(string name, byte level, byte flags, string clientId = "c") => MqttPackets.ConnectWith(name, level, flags, 60, clientId)[2..];

    [Theory]
    [InlineData("MQTT", 4, 0x02, MqttConnectHeaderStatus.Valid)]
    [InlineData("MQTT", 5, 0x00, MqttConnectHeaderStatus.Valid)]
    [InlineData("MQIsdp", 3, 0x02, MqttConnectHeaderStatus.Valid)]
    [InlineData("MQTT", 4, 0x2E, MqttConnectHeaderStatus.Valid)]
    [InlineData("MQTX", 4, 0x02, MqttConnectHeaderStatus.UnacceptableProtocol)]
    [InlineData("MQTT", 3, 0x02, MqttConnectHeaderStatus.UnacceptableProtocol)]
    [InlineData("MQTT", 6, 0x02, MqttConnectHeaderStatus.UnacceptableProtocol)]
    [InlineData("MQIsdp", 4, 0x02, MqttConnectHeaderStatus.UnacceptableProtocol)]
    [InlineData("MQTT", 4, 0x03, MqttConnectHeaderStatus.InvalidFlags)]
    [InlineData("MQTT", 4, 0x1E, MqttConnectHeaderStatus.InvalidFlags)]
    [InlineData("MQTT", 4, 0x0A, MqttConnectHeaderStatus.InvalidFlags)]
    [InlineData("MQTT", 4, 0x22, MqttConnectHeaderStatus.InvalidFlags)]
    public void Check_ProtocolAndFlags_Status(string name, byte level, byte flags, MqttConnectHeaderStatus expected) =>
        Assert.Equal(expected, MqttConnectHeader.Check(Body(name, level, flags)));

    [Theory]
    // MQTT 3.1.1 §3.1.3.1: an empty client id is only for a clean session; MQTT 5 leaves it to the broker.
    [InlineData("MQTT", 4, 0x00, MqttConnectHeaderStatus.IdentifierRejected)]
    [InlineData("MQIsdp", 3, 0x00, MqttConnectHeaderStatus.IdentifierRejected)]
    [InlineData("MQTT", 4, 0x02, MqttConnectHeaderStatus.Valid)]
    [InlineData("MQTT", 5, 0x00, MqttConnectHeaderStatus.Valid)]
    public void Check_EmptyClientId_RejectedOnlyWithoutCleanSessionIn311(string name, byte level, byte flags, MqttConnectHeaderStatus expected) =>
        Assert.Equal(expected, MqttConnectHeader.Check(Body(name, level, flags, clientId: "")));

    [Fact]
    public void Check_TruncatedOrHostileLengths_Malformed()
    {
        Assert.Equal(MqttConnectHeaderStatus.Malformed, MqttConnectHeader.Check([]));
        Assert.Equal(MqttConnectHeaderStatus.Malformed, MqttConnectHeader.Check([0x00]));
        // A name length far beyond the body.
        Assert.Equal(MqttConnectHeaderStatus.Malformed, MqttConnectHeader.Check([0xFF, 0xFF, (byte)'M', 4, 2]));
        // Name and level but no flags byte.
        Assert.Equal(MqttConnectHeaderStatus.Malformed, MqttConnectHeader.Check([0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4]));
        // An MQTT 3.1.1 header without a client id.
        Assert.Equal(MqttConnectHeaderStatus.Malformed, MqttConnectHeader.Check([0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 4, 2, 0, 60]));
    }

    [Theory]
    // MQTT 5 asking for more than the maximum, or for none: told the maximum.
    [InlineData(60, 10, true, 10, 10)]
    [InlineData(0, 10, true, 10, 10)]
    // Within the maximum, or no maximum: the client's value, no Server Keep Alive.
    [InlineData(5, 10, true, 5, 0)]
    [InlineData(10, 10, true, 10, 0)]
    [InlineData(60, 0, true, 60, 0)]
    [InlineData(0, 0, true, 0, 0)]
    // MQTT 3.1.1 cannot be told: its own value, 0 included.
    [InlineData(60, 10, false, 60, 0)]
    [InlineData(0, 10, false, 0, 0)]
    public void Grant_RequestedMaximumVersion_KeepAliveAndServerKeepAlive(int requested, int max, bool mqtt5, int expected, int expectedServer)
    {
        Assert.Equal(expected, MqttKeepAlive.Grant((ushort)requested, max, mqtt5, out var server));
        Assert.Equal(expectedServer, server);
    }

    [Fact]
    public void IsExpired_OneAndAHalfIntervals()
    {
        Assert.False(MqttKeepAlive.IsExpired(2, 3000));
        Assert.True(MqttKeepAlive.IsExpired(2, 3001));
        Assert.False(MqttKeepAlive.IsExpired(0, long.MaxValue));
    }
}
