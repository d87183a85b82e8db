using System.Buffers;

namespace EdgeStream.Mqtt.Core;

/// <summary>What <see cref="MqttFrameReader.TryRead"/> found at the start of a buffer.</summary>
public enum MqttFrameStatus
{
    /// <summary>A whole packet: its fixed header byte and body are set.</summary>
    Complete,
    /// <summary>Not all of the packet is in the buffer yet.</summary>
    Incomplete,
    /// <summary>The remaining length is not a variable byte integer of at most four bytes.</summary>
    Malformed,
    /// <summary>The packet (fixed header included) is larger than the limit; nothing of it was buffered beyond its header.</summary>
    TooLarge,
}

/// <summary>
/// Splits the inbound byte stream into MQTT packets (MQTT 3.1.1 §2.2, MQTT 5 §2.1): no I/O, no
/// allocation. The size limit is checked on the fixed header alone, before the body is waited for.
/// </summary>
public static class MqttFrameReader
{
    /// <summary>
    /// Reads one packet off the start of <paramref name="buffer"/>. On <see cref="MqttFrameStatus.Complete"/>
    /// <paramref name="buffer"/> is advanced past it.
    /// </summary>
    public static MqttFrameStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxPacketBytes, out byte header, out ReadOnlySequence<byte> body)
    {
        header = 0;
        body = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryRead(out header)) return MqttFrameStatus.Incomplete;
        // Checked before the rest arrives: a stream that is not MQTT is refused on its first byte.
        if (!IsValidHeader(header)) return MqttFrameStatus.Malformed;
        // Remaining Length: a variable byte integer, 7 bits per byte, at most 4 bytes (§1.5.5).
        var length = 0;
        var shift = 0;
        for (var i = 0; ; i++)
        {
            if (i == 4) return MqttFrameStatus.Malformed;
            if (!reader.TryRead(out var b)) return MqttFrameStatus.Incomplete;
            length |= (b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0) break;
        }
        var total = (long)reader.Consumed + length;
        if (total > maxPacketBytes) return MqttFrameStatus.TooLarge;
        if (reader.Remaining < length) return MqttFrameStatus.Incomplete;
        body = buffer.Slice(reader.Position, length);
        buffer = buffer.Slice(body.End);
        return MqttFrameStatus.Complete;
    }

    /// <summary>
    /// Whether a fixed header's first byte is one a client may send (§2.1.2, §2.1.3): not reserved type 0,
    /// flags 0010 on PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0000 on the others except PUBLISH, whose QoS is not 3.
    /// </summary>
    public static bool IsValidHeader(byte header)
    {
        var flags = header & 0x0F;
        return (header >> 4) switch
        {
            0 => false,
            3 => (flags & 0x06) != 0x06,
            6 or 8 or 10 => flags == 0x02,
            _ => flags == 0,
        };
    }
}
