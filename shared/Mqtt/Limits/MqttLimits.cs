namespace EdgeStream.Mqtt.Limits;

/// <summary>
/// What one MQTT listener accepts. The defaults are what a node serves with no settings; every
/// limit closes or refuses only the client that crosses it.
/// </summary>
public sealed record MqttLimits
{
    public const int DefaultMaxPacketBytes = 1 << 20;
    public const int DefaultMaxConnections = 10_000;
    public const int DefaultMaxInflight = 100;
    public const int DefaultMaxQueued = 100_000;

    /// <summary>Smallest <see cref="MaxPacketBytes"/> accepted: a CONNECT with credentials must still fit.</summary>
    public const int MinPacketBytes = 1024;

    /// <summary>MQTT 3.1.1 §2.2.3 / MQTT 5 §1.5.5: the largest remaining length a 4-byte varint holds, plus the fixed header.</summary>
    public const int MaxPacketBytesLimit = 268_435_455 + 5;

    /// <summary>Largest whole packet (fixed header included, as MQTT 5's Maximum Packet Size counts) a client may send. Default 1 MiB.</summary>
    public int MaxPacketBytes { get; init; } = DefaultMaxPacketBytes;

    /// <summary>Clients connected at once; the next CONNECT is refused. Default 10000.</summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections;

    /// <summary>MQTT 5 Receive Maximum advertised in CONNACK, and the QoS 2 PUBLISHes a connection may leave awaiting PUBREL. Default 100.</summary>
    public int MaxInflight { get; init; } = DefaultMaxInflight;

    /// <summary>Messages queued per session for a subscriber; beyond it the oldest is dropped. Default 100000.</summary>
    public int MaxQueued { get; init; } = DefaultMaxQueued;

    /// <summary>
    /// Longest keep alive, in seconds, an MQTT 5 client may ask for (MQTT 5 §3.2.2.3.14): one asking
    /// for more, or for none (0), is told this as Server Keep Alive in CONNACK and timed out at 1.5 times it.
    /// MQTT 3.1.1 has no way to change a client's keep alive. Own core only. Default 0: the client's value.
    /// </summary>
    public int MaxKeepAliveSeconds { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a limit outside its range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPacketBytes, MinPacketBytes, nameof(MaxPacketBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxPacketBytes, MaxPacketBytesLimit, nameof(MaxPacketBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInflight, 1, nameof(MaxInflight));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxInflight, ushort.MaxValue, nameof(MaxInflight));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueued, 1, nameof(MaxQueued));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxKeepAliveSeconds, nameof(MaxKeepAliveSeconds));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxKeepAliveSeconds, ushort.MaxValue, nameof(MaxKeepAliveSeconds));
    }
}
