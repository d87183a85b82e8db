using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace EdgeStream.Mqtt.Tests;

/// <summary>MQTT packets encoded by hand, so tests can send what no well-behaved client would.</summary>
public static class MqttPackets
{
    public static byte[] Connect311(string clientId, bool cleanSession = true) => Connect(4, clientId, cleanSession);

    public static byte[] Connect5(string clientId, bool cleanSession = true) => Connect(5, clientId, cleanSession);

    private static byte[] Connect(byte level, string clientId, bool cleanSession)
    {
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', level, (byte)(cleanSession ? 0x02 : 0x00), 0, 60 };
        if (level == 5) body.Add(0); // no properties
        AddString(body, clientId);
        return Packet(0x10, body);
    }

    /// <summary>
    /// A CONNECT with every header field chosen: protocol name and level, connect flags (including the
    /// will bits), keep alive; MQTT 5 (level 5) gets the given properties and an empty will property block.
    /// </summary>
    public static byte[] ConnectWith(string protocolName, byte level, byte flags, ushort keepAlive, string clientId,
        (string Topic, string Payload)? will = null, params byte[][] properties)
    {
        var body = new List<byte>();
        AddString(body, protocolName);
        body.AddRange([level, flags, (byte)(keepAlive >> 8), (byte)keepAlive]);
        if (level == 5) AddProperties(body, properties);
        AddString(body, clientId);
        if (will is { } w)
        {
            if (level == 5) body.Add(0);
            AddString(body, w.Topic);
            AddString(body, w.Payload);
        }
        return Packet(0x10, body);
    }

    /// <summary>A PUBLISH; <paramref name="packetId"/> for QoS 1 and 2.</summary>
    public static byte[] Publish(string topic, byte[] payload, int qos, ushort packetId = 0, bool mqtt5 = false)
    {
        var body = new List<byte>();
        AddString(body, topic);
        if (qos > 0) { body.Add((byte)(packetId >> 8)); body.Add((byte)packetId); }
        if (mqtt5) body.Add(0);
        body.AddRange(payload);
        return Packet((byte)(0x30 | (qos << 1)), body);
    }

    /// <summary>An MQTT 5 CONNECT (keep alive 60 s) with the given encoded properties (<see cref="Property4"/>, <see cref="Property2"/>).</summary>
    public static byte[] Connect5(string clientId, bool cleanStart, params byte[][] properties)
    {
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, (byte)(cleanStart ? 0x02 : 0x00), 0, 60 };
        AddProperties(body, properties);
        AddString(body, clientId);
        return Packet(0x10, body);
    }

    /// <summary>An MQTT 5 PUBLISH with the given encoded properties.</summary>
    public static byte[] Publish5(string topic, byte[] payload, int qos, ushort packetId, params byte[][] properties)
    {
        var body = new List<byte>();
        AddString(body, topic);
        if (qos > 0) { body.Add((byte)(packetId >> 8)); body.Add((byte)packetId); }
        AddProperties(body, properties);
        body.AddRange(payload);
        return Packet((byte)(0x30 | (qos << 1)), body);
    }

    /// <summary>A SUBSCRIBE of one filter (MQTT 5 with an empty property block).</summary>
    public static byte[] Subscribe(ushort packetId, string filter, int qos, bool mqtt5)
    {
        var body = new List<byte> { (byte)(packetId >> 8), (byte)packetId };
        if (mqtt5) body.Add(0);
        AddString(body, filter);
        body.Add((byte)qos);
        return Packet(0x82, body);
    }

    /// <summary>An MQTT 5 DISCONNECT with a reason code and the given encoded properties.</summary>
    public static byte[] Disconnect5(byte reason, params byte[][] properties)
    {
        var body = new List<byte> { reason };
        AddProperties(body, properties);
        return Packet(0xE0, body);
    }

    /// <summary>An MQTT 5 AUTH with a reason code and the given encoded properties (<see cref="PropertyString"/>, <see cref="PropertyBinary"/>).</summary>
    public static byte[] Auth5(byte reason, params byte[][] properties)
    {
        var body = new List<byte> { reason };
        AddProperties(body, properties);
        return Packet(0xF0, body);
    }

    public static byte[] PubAck(ushort packetId) => [0x40, 0x02, (byte)(packetId >> 8), (byte)packetId];

    /// <summary>A property with a four-byte integer value (Session Expiry Interval 0x11, Maximum Packet Size 0x27).</summary>
    public static byte[] Property4(byte id, uint value) => [id, (byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    /// <summary>A property with a two-byte integer value (Receive Maximum 0x21, Topic Alias 0x23).</summary>
    public static byte[] Property2(byte id, ushort value) => [id, (byte)(value >> 8), (byte)value];

    /// <summary>A property with a UTF-8 string value (Authentication Method 0x15).</summary>
    public static byte[] PropertyString(byte id, string value)
    {
        var property = new List<byte> { id };
        AddString(property, value);
        return [.. property];
    }

    /// <summary>A property with binary data (Authentication Data 0x16).</summary>
    public static byte[] PropertyBinary(byte id, byte[] value) => [id, (byte)(value.Length >> 8), (byte)value.Length, .. value];

    private static void AddProperties(List<byte> body, byte[][] properties)
    {
        var all = properties.SelectMany(p => p).ToArray();
        AddVarInt(body, all.Length);
        body.AddRange(all);
    }

    public static byte[] PubRel(ushort packetId) => [0x62, 0x02, (byte)(packetId >> 8), (byte)packetId];

    public static byte[] PingReq => [0xC0, 0x00];

    /// <summary>Only the fixed header (and no more) of a PUBLISH whose remaining length is <paramref name="remainingLength"/>.</summary>
    public static byte[] PublishHeader(int remainingLength)
    {
        var header = new List<byte> { 0x32 };
        AddVarInt(header, remainingLength);
        return [.. header];
    }

    private static byte[] Packet(byte first, List<byte> body)
    {
        var packet = new List<byte> { first };
        AddVarInt(packet, body.Count);
        packet.AddRange(body);
        return [.. packet];
    }

    private static void AddString(List<byte> to, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        to.Add((byte)(bytes.Length >> 8));
        to.Add((byte)bytes.Length);
        to.AddRange(bytes);
    }

    private static void AddVarInt(List<byte> to, int value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0) b |= 0x80;
            to.Add(b);
        }
        while (value > 0);
    }
}

/// <summary>One packet as received: the first byte and the bytes after the remaining length.</summary>
public sealed record MqttPacket(byte First, byte[] Body)
{
    public int Type => First >> 4;

    /// <summary>CONNACK: the return code (3.1.1) or reason code (5).</summary>
    public byte ConnAckCode => Body[1];

    /// <summary>PUBLISH: the packet identifier (QoS 1/2 only).</summary>
    public ushort PublishPacketId
    {
        get
        {
            var topicLength = BinaryPrimitives.ReadUInt16BigEndian(Body);
            return BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(2 + topicLength));
        }
    }

    /// <summary>PUBLISH: the payload, for an MQTT 5 packet (with its property block) or a 3.1.1 one.</summary>
    public string PublishPayload(bool mqtt5)
    {
        var at = 2 + BinaryPrimitives.ReadUInt16BigEndian(Body) + (((First >> 1) & 3) > 0 ? 2 : 0);
        if (mqtt5)
        {
            var properties = ReadVarInt(Body, ref at);
            at += properties;
        }
        return Encoding.UTF8.GetString(Body, at, Body.Length - at);
    }

    /// <summary>PUBLISH: the topic name as sent (empty when only a Topic Alias names it).</summary>
    public string PublishTopic => Encoding.UTF8.GetString(Body, 2, BinaryPrimitives.ReadUInt16BigEndian(Body));

    /// <summary>MQTT 5 PUBLISH: the Topic Alias property (0x23), 0 when absent.</summary>
    public ushort PublishTopicAlias
    {
        get
        {
            var at = 2 + BinaryPrimitives.ReadUInt16BigEndian(Body) + (((First >> 1) & 3) > 0 ? 2 : 0);
            var end = ReadVarInt(Body, ref at) + at;
            while (at < end)
            {
                var id = Body[at++];
                switch (id)
                {
                    case 0x23: return BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at));
                    case 0x01: at += 1; break;
                    case 0x02: at += 4; break;
                    case 0x0B: ReadVarInt(Body, ref at); break;
                    case 0x03 or 0x08 or 0x09: at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at)); break;
                    case 0x26:
                        at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at));
                        at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at));
                        break;
                    default: throw new InvalidDataException($"unknown PUBLISH property 0x{id:X2}");
                }
            }
            return 0;
        }
    }

    /// <summary>The whole packet's size on the wire (fixed header included), as MQTT 5's Maximum Packet Size counts it.</summary>
    public int WireSize => 1 + (Body.Length < 128 ? 1 : Body.Length < 16_384 ? 2 : Body.Length < 2_097_152 ? 3 : 4) + Body.Length;

    /// <summary>MQTT 5 DISCONNECT: the reason code (0 when absent).</summary>
    public byte DisconnectReason => Body.Length > 0 ? Body[0] : (byte)0;

    /// <summary>MQTT 5 CONNACK properties that are integers, by identifier (§3.2.2.3).</summary>
    public Dictionary<byte, long> ConnAck5IntProperties()
    {
        var result = new Dictionary<byte, long>();
        var at = 2;
        var length = ReadVarInt(Body, ref at);
        var end = at + length;
        while (at < end)
        {
            var id = Body[at++];
            switch (id)
            {
                case 0x11 or 0x27: result[id] = BinaryPrimitives.ReadUInt32BigEndian(Body.AsSpan(at)); at += 4; break;
                case 0x13 or 0x21 or 0x22: result[id] = BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at)); at += 2; break;
                case 0x24 or 0x25 or 0x28 or 0x29 or 0x2A: result[id] = Body[at]; at += 1; break;
                case 0x12 or 0x15 or 0x16 or 0x1A or 0x1C or 0x1F: at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at)); break;
                case 0x26:
                    at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at));
                    at += 2 + BinaryPrimitives.ReadUInt16BigEndian(Body.AsSpan(at));
                    break;
                default: throw new InvalidDataException($"unknown CONNACK property 0x{id:X2}");
            }
        }
        return result;
    }

    internal static int ReadVarInt(byte[] bytes, ref int at)
    {
        var value = 0;
        for (var shift = 0; shift < 28; shift += 7)
        {
            var b = bytes[at++];
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        return value;
    }
}

/// <summary>A bare TCP connection to the MQTT listener.</summary>
public sealed class RawMqttClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawMqttClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawMqttClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new RawMqttClient(tcp);
    }

    /// <summary>Connects and sends CONNECT; returns the client and the CONNACK.</summary>
    public static async Task<(RawMqttClient Client, MqttPacket ConnAck)> ConnectMqttAsync(int port, bool mqtt5, string clientId)
    {
        var client = await ConnectAsync(port);
        await client.SendAsync(mqtt5 ? MqttPackets.Connect5(clientId) : MqttPackets.Connect311(clientId));
        var connAck = await client.ReadPacketAsync(TimeSpan.FromSeconds(10));
        Assert.True(connAck is { Type: 2 }, $"expected CONNACK, got {connAck?.First:X2}");
        return (client, connAck!);
    }

    /// <summary>Sends bytes; false if the server has closed the connection already.</summary>
    public async Task<bool> SendAsync(byte[] bytes)
    {
        try
        {
            await _stream.WriteAsync(bytes);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The next packet; null when the server closed the connection (or reset it).</summary>
    public async Task<MqttPacket?> ReadPacketAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            var first = new byte[1];
            if (!await ReadExactlyAsync(first, cts.Token)) return null;
            var length = 0;
            var one = new byte[1];
            for (var shift = 0; shift < 28; shift += 7)
            {
                if (!await ReadExactlyAsync(one, cts.Token)) return null;
                length |= (one[0] & 0x7F) << shift;
                if ((one[0] & 0x80) == 0) break;
            }
            var body = new byte[length];
            if (!await ReadExactlyAsync(body, cts.Token)) return null;
            return new MqttPacket(first[0], body);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reads until the server closes the connection; returns the packets received before, or null if
    /// the connection was still open at the deadline.
    /// </summary>
    public async Task<List<MqttPacket>?> ReadUntilClosedAsync(TimeSpan timeout)
    {
        var packets = new List<MqttPacket>();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && packets.Count < 100_000)
        {
            try
            {
                var packet = await ReadPacketAsync(timeout - sw.Elapsed);
                if (packet is null) return packets;
                packets.Add(packet);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    public void Dispose() => _tcp.Dispose();
}
