namespace EdgeStream.Mqtt.Core;

/// <summary>
/// Finds one MQTT 5 property (§2.2.2) in a packet body, for the properties whose presence matters
/// and that MQTTnet's decoded packets cannot tell from absence: a Topic Alias of 0 on a PUBLISH
/// (§3.3.2.3.4, a protocol error, decodes as "no alias") and a DISCONNECT's Session Expiry Interval
/// (§3.14.2.2.2, absent means "unchanged", 0 means "ends now"). Bounds-checked throughout; a
/// malformed property block finds nothing (MQTTnet's decoder refuses the packet anyway).
/// </summary>
public static class MqttPropertyScanner
{
    private const byte SessionExpiryInterval = 0x11;
    private const byte TopicAlias = 0x23;

    /// <summary>The Topic Alias of an MQTT 5 PUBLISH body, or null when it has none.</summary>
    public static int? PublishTopicAlias(ReadOnlySpan<byte> body, bool hasPacketId)
    {
        // Variable header: topic name (two-byte length + UTF-8), packet id (QoS 1/2), properties.
        if (body.Length < 2) return null;
        var p = 2 + (body[0] << 8 | body[1]) + (hasPacketId ? 2 : 0);
        return Find(body, p, TopicAlias, out var value) && value.Length == 2 ? value[0] << 8 | value[1] : null;
    }

    /// <summary>The Session Expiry Interval of an MQTT 5 DISCONNECT body, or null when it has none.</summary>
    public static uint? DisconnectSessionExpiry(ReadOnlySpan<byte> body)
    {
        // Variable header: reason code (may be absent along with the properties), properties.
        if (body.Length < 2) return null;
        return Find(body, 1, SessionExpiryInterval, out var value) && value.Length == 4
            ? (uint)(value[0] << 24 | value[1] << 16 | value[2] << 8 | value[3])
            : null;
    }

    /// <summary>Looks for property <paramref name="id"/> in the property block starting at <paramref name="start"/>.</summary>
    private static bool Find(ReadOnlySpan<byte> body, int start, byte id, out ReadOnlySpan<byte> value)
    {
        value = default;
        var p = start;
        if (!TryReadVarint(body, ref p, out var length) || length > body.Length - p) return false;
        var end = p + length;
        while (p < end)
        {
            var current = body[p++];
            var size = SizeOf(current, body[..end], p);
            if (size < 0 || size > end - p) return false;
            if (current == id)
            {
                value = body.Slice(p, size);
                return true;
            }
            p += size;
        }
        return false;
    }

    /// <summary>The size of a property value at <paramref name="p"/> by its type (§2.2.2.2), or -1 when unknown or truncated.</summary>
    private static int SizeOf(byte id, ReadOnlySpan<byte> block, int p)
    {
        switch (id)
        {
            // Byte
            case 0x01 or 0x17 or 0x19 or 0x24 or 0x25 or 0x28 or 0x29 or 0x2A: return 1;
            // Two-byte integer
            case 0x13 or 0x21 or 0x22 or 0x23: return 2;
            // Four-byte integer
            case 0x02 or 0x11 or 0x18 or 0x27: return 4;
            // Variable byte integer
            case 0x0B:
                var q = p;
                return TryReadVarint(block, ref q, out _) ? q - p : -1;
            // UTF-8 string or binary data: two-byte length first
            case 0x03 or 0x08 or 0x09 or 0x12 or 0x15 or 0x16 or 0x1A or 0x1C or 0x1F:
                return p + 2 <= block.Length ? 2 + (block[p] << 8 | block[p + 1]) : -1;
            // UTF-8 string pair
            case 0x26:
                if (p + 2 > block.Length) return -1;
                var second = p + 2 + (block[p] << 8 | block[p + 1]);
                if (second + 2 > block.Length) return -1;
                return second + 2 + (block[second] << 8 | block[second + 1]) - p;
            default: return -1;
        }
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> span, ref int p, out int value)
    {
        value = 0;
        for (var i = 0; i < 4; i++)
        {
            if (p >= span.Length) return false;
            var b = span[p++];
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }
}
