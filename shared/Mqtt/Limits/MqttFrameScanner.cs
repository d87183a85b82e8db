using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace EdgeStream.Mqtt.Limits;

/// <summary>Outcome of reading one piece of an MQTT packet off a buffer.</summary>
public enum MqttFrameStatus
{
    /// <summary>Read.</summary>
    Ok,
    /// <summary>The buffer ends before the piece does: wait for more bytes.</summary>
    NeedMore,
    /// <summary>Not MQTT: the connection must be closed.</summary>
    Malformed,
}

/// <summary>
/// The few MQTT framing reads the connection guard needs, on a buffer and nothing else (no I/O):
/// fixed headers, the packet id of QoS 2 PUBLISH and PUBREL, and the CONNECT fields that decide
/// whether a client id must be assigned. Payloads are never copied.
/// </summary>
public static class MqttFrameScanner
{
    public const byte Connect = 1;
    public const byte Publish = 3;
    public const byte PubRel = 6;

    /// <summary>
    /// MQTT 3.1.1 §2.2 / MQTT 5 §2.1: fixed header = byte 1 (packet type in bits 7-4, flags in bits
    /// 3-0), then the remaining length as a variable byte integer of 1 to 4 bytes (7 bits each, low
    /// group first, bit 7 = more follow). A fifth length byte is malformed (§1.5.5 [MQTT-1.5.5-1]).
    /// </summary>
    public static MqttFrameStatus TryReadFixedHeader(in ReadOnlySequence<byte> buffer, out byte typeAndFlags, out int headerLength, out int remainingLength)
    {
        typeAndFlags = 0;
        headerLength = 0;
        remainingLength = 0;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryRead(out typeAndFlags)) return MqttFrameStatus.NeedMore;
        var value = 0;
        for (var i = 0; i < 4; i++)
        {
            if (!reader.TryRead(out var b)) return MqttFrameStatus.NeedMore;
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                headerLength = 2 + i;
                remainingLength = value;
                return MqttFrameStatus.Ok;
            }
        }
        return MqttFrameStatus.Malformed;
    }

    /// <summary>Bytes of the variable byte integer encoding of <paramref name="value"/> (1 to 4).</summary>
    public static int VarIntLength(int value) => value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;

    /// <summary>Writes <paramref name="value"/> as a variable byte integer; returns the bytes written.</summary>
    public static int WriteVarInt(Span<byte> destination, int value)
    {
        var i = 0;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0) b |= 0x80;
            destination[i++] = b;
        }
        while (value > 0);
        return i;
    }

    /// <summary>
    /// The packet identifier of a QoS 1/2 PUBLISH. MQTT 3.1.1 §3.3.2 / MQTT 5 §3.3.2: the variable
    /// header starts with the topic name (u16 length + UTF-8; empty under an MQTT 5 topic alias),
    /// then the packet identifier (u16). <paramref name="packet"/> starts at the fixed header.
    /// </summary>
    public static MqttFrameStatus TryReadPublishPacketId(in ReadOnlySequence<byte> packet, int headerLength, int remainingLength, out ushort packetId)
    {
        packetId = 0;
        if (remainingLength < 4) return MqttFrameStatus.Malformed;
        var reader = new SequenceReader<byte>(packet);
        reader.Advance(Math.Min(headerLength, packet.Length));
        if (!reader.TryReadBigEndian(out short topicLength)) return MqttFrameStatus.NeedMore;
        var needed = 2 + (ushort)topicLength + 2;
        if (needed > remainingLength) return MqttFrameStatus.Malformed;
        if (reader.Remaining < needed - 2) return MqttFrameStatus.NeedMore;
        reader.Advance((ushort)topicLength);
        reader.TryReadBigEndian(out short id);
        packetId = (ushort)id;
        // [MQTT-2.3.1-1]: a packet identifier is non-zero.
        return packetId == 0 ? MqttFrameStatus.Malformed : MqttFrameStatus.Ok;
    }

    /// <summary>The packet identifier of a PUBREL: MQTT 3.1.1 §3.6.2 / MQTT 5 §3.6.2, the first two bytes of the variable header.</summary>
    public static MqttFrameStatus TryReadPubRelPacketId(in ReadOnlySequence<byte> packet, int headerLength, int remainingLength, out ushort packetId)
    {
        packetId = 0;
        if (remainingLength < 2) return MqttFrameStatus.Malformed;
        var reader = new SequenceReader<byte>(packet);
        reader.Advance(Math.Min(headerLength, packet.Length));
        if (!reader.TryReadBigEndian(out short id)) return MqttFrameStatus.NeedMore;
        packetId = (ushort)id;
        return MqttFrameStatus.Ok;
    }

    /// <summary>
    /// Reads a whole CONNECT packet's protocol level and, for MQTT 3.1.1 (level 4) with an empty
    /// client id and CleanSession = 1, returns a copy of the packet with a generated id in its
    /// place (<paramref name="rewritten"/>), else null.
    /// <para>MQTT 3.1.1 §3.1.2-3.1.3: variable header = protocol name (u16 length + "MQTT"), protocol
    /// level (1 byte), connect flags (bit 1 = CleanSession), keep alive (u16); payload starts with
    /// the client id (u16 length + UTF-8). §3.1.3.1: a server may accept a zero-byte client id with
    /// CleanSession = 1 by assigning it a unique one [MQTT-3.1.3-6]; with CleanSession = 0 it must
    /// refuse it with return code 0x02 [MQTT-3.1.3-8], which MQTTnet does when the id stays empty.</para>
    /// </summary>
    public static MqttFrameStatus ReadConnect(in ReadOnlySequence<byte> packet, int headerLength, int remainingLength,
        Func<string> newClientId, out byte protocolLevel, out byte[]? rewritten)
    {
        protocolLevel = 0;
        rewritten = null;
        var reader = new SequenceReader<byte>(packet);
        reader.Advance(headerLength);
        if (!reader.TryReadBigEndian(out short nameLength) || nameLength < 0 || 2 + nameLength + 4 + 2 > remainingLength)
            return MqttFrameStatus.Malformed;
        reader.Advance(nameLength);
        reader.TryRead(out protocolLevel);
        reader.TryRead(out var flags);
        reader.Advance(2);
        if (protocolLevel != 4) return MqttFrameStatus.Ok;

        var idOffset = 2 + nameLength + 4; // into the variable header
        if (!reader.TryReadBigEndian(out short idLength)) return MqttFrameStatus.Malformed;
        if (idLength != 0 || (flags & 0x02) == 0) return MqttFrameStatus.Ok;

        var id = Encoding.UTF8.GetBytes(newClientId());
        var newRemaining = remainingLength + id.Length;
        var newHeaderLength = 1 + VarIntLength(newRemaining);
        var copy = new byte[newHeaderLength + newRemaining];
        copy[0] = packet.FirstSpan[0];
        WriteVarInt(copy.AsSpan(1), newRemaining);
        var body = packet.Slice(headerLength, remainingLength);
        var at = newHeaderLength;
        body.Slice(0, idOffset).CopyTo(copy.AsSpan(at));
        at += idOffset;
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(at), (ushort)id.Length);
        at += 2;
        id.CopyTo(copy.AsSpan(at));
        at += id.Length;
        body.Slice(idOffset + 2).CopyTo(copy.AsSpan(at));
        rewritten = copy;
        return MqttFrameStatus.Ok;
    }

    /// <summary>A client id for a client that sent none: "edgestream-" and 16 random hex digits (23 characters, MQTT 3.1.1's guaranteed length).</summary>
    public static string NewClientId()
    {
        Span<byte> random = stackalloc byte[8];
        RandomNumberGenerator.Fill(random);
        return "edgestream-" + Convert.ToHexStringLower(random);
    }
}
