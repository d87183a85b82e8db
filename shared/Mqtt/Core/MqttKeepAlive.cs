namespace EdgeStream.Mqtt.Core;

/// <summary>
/// The keep alive a connection is held to: what the client asked for, or the server's maximum
/// (<c>--mqtt-max-keepalive</c>) where MQTT 5 lets the server impose one. No I/O, no clock.
/// </summary>
public static class MqttKeepAlive
{
    /// <summary>
    /// The keep alive in seconds the connection is timed out by, and the Server Keep Alive to put in
    /// CONNACK (0: none, the client's value stands). MQTT 5 §3.2.2.3.14: a server may tell the client
    /// a different keep alive, which the client must then use. MQTT 3.1.1 has no such property, so its
    /// client's value (0 included) is kept whatever the maximum.
    /// </summary>
    public static ushort Grant(ushort requested, int maxSeconds, bool mqtt5, out ushort serverKeepAlive)
    {
        serverKeepAlive = 0;
        // 0 asks for no keep alive at all: more than any maximum.
        if (!mqtt5 || maxSeconds <= 0 || (requested != 0 && requested <= maxSeconds)) return requested;
        serverKeepAlive = (ushort)maxSeconds;
        return serverKeepAlive;
    }

    /// <summary>
    /// Whether a connection silent for <paramref name="silentMs"/> has outlived its keep alive: MQTT 3.1.1
    /// §3.1.2.10 and MQTT 5 §3.1.2.10 give it one and a half times the interval. 0 never expires.
    /// </summary>
    public static bool IsExpired(ushort keepAliveSeconds, long silentMs) => keepAliveSeconds > 0 && silentMs > keepAliveSeconds * 1500L;
}
