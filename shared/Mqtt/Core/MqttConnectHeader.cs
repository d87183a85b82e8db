namespace EdgeStream.Mqtt.Core;

/// <summary>What <see cref="MqttConnectHeader.Check"/> found in a CONNECT's variable header.</summary>
public enum MqttConnectHeaderStatus
{
    /// <summary>A protocol this server speaks, with valid connect flags.</summary>
    Valid,
    /// <summary>Not MQTT 3.1 (MQIsdp 3), 3.1.1 (MQTT 4) or 5 (MQTT 5): CONNACK 0x01 and close.</summary>
    UnacceptableProtocol,
    /// <summary>MQTT 3.1/3.1.1: an empty client id asking for a persistent session (CleanSession = 0): CONNACK 0x02 and close.</summary>
    IdentifierRejected,
    /// <summary>Connect flags a client must not send (the reserved bit, or will flags without a will): close without CONNACK.</summary>
    InvalidFlags,
    /// <summary>Too short to hold a protocol name, level and flags: close without CONNACK.</summary>
    Malformed,
}

/// <summary>
/// Checks a CONNECT's protocol name, level, connect flags and (MQTT 3.1.x) client id before MQTTnet's
/// decoder sees the packet: the decoder throws on an unknown protocol and on an empty 3.1.1 client id
/// without CleanSession, which would close the connection without the CONNACK MQTT 3.1.1 §3.1.2.2 and
/// §3.1.3.1 ask for. No I/O, no allocation.
/// </summary>
public static class MqttConnectHeader
{
    /// <summary>
    /// Checks a CONNECT body. Variable header (§3.1.2): protocol name (two-byte length + bytes),
    /// protocol level (one byte), connect flags (one byte), keep alive (two bytes); then, in MQTT 3.1.x,
    /// the payload's client id (two-byte length + bytes); MQTT 5 has properties in between.
    /// </summary>
    public static MqttConnectHeaderStatus Check(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2) return MqttConnectHeaderStatus.Malformed;
        var nameLength = body[0] << 8 | body[1];
        if (body.Length < 2 + nameLength + 2) return MqttConnectHeaderStatus.Malformed;
        var name = body.Slice(2, nameLength);
        var level = body[2 + nameLength];
        var flags = body[3 + nameLength];
        // §3.1.2.1/§3.1.2.2: "MQTT" level 4 (3.1.1) or 5; MQTT 3.1's "MQIsdp" level 3 is still served.
        var known = (name.SequenceEqual("MQTT"u8) && level is 4 or 5) || (name.SequenceEqual("MQIsdp"u8) && level == 3);
        if (!known) return MqttConnectHeaderStatus.UnacceptableProtocol;
        // §3.1.2.3: the reserved flag (bit 0) is zero, else the server disconnects the client.
        if ((flags & 0x01) != 0) return MqttConnectHeaderStatus.InvalidFlags;
        var willQos = (flags >> 3) & 0x03;
        // §3.1.2.6: Will QoS 3 is invalid; §3.1.2.6/§3.1.2.7: without the Will Flag, Will QoS and Will Retain are 0.
        if (willQos == 3 || ((flags & 0x04) == 0 && (flags & 0x38) != 0)) return MqttConnectHeaderStatus.InvalidFlags;
        if (level == 5) return MqttConnectHeaderStatus.Valid;
        var clientId = 2 + nameLength + 4;
        if (body.Length < clientId + 2) return MqttConnectHeaderStatus.Malformed;
        // §3.1.3.1 [MQTT-3.1.3-8]: a zero-byte client id needs CleanSession = 1 (bit 1).
        var clientIdLength = body[clientId] << 8 | body[clientId + 1];
        return clientIdLength == 0 && (flags & 0x02) == 0 ? MqttConnectHeaderStatus.IdentifierRejected : MqttConnectHeaderStatus.Valid;
    }
}
