namespace EdgeStream.Mqtt.Core;

/// <summary>
/// Topic aliases this server uses toward one MQTT 5 client (§3.3.2.3.4), which announced a Topic
/// Alias Maximum above 0 in CONNECT. First come, first served: the first topics delivered get the
/// aliases 1..maximum for the connection's life; later topics go out in full. Aliases are per
/// connection (§3.3.2.3.4: they do not survive it), so a new one starts empty. Used by the
/// connection's writer loop only, so unsynchronised.
/// </summary>
internal sealed class MqttTopicAliasSender
{
    /// <summary>Aliases kept per connection at most, whatever the client allows: bounds the memory a client can make us hold.</summary>
    public const ushort Limit = 1024;

    private readonly Dictionary<string, ushort> _aliases = new(StringComparer.Ordinal);
    private readonly ushort _maximum;

    public MqttTopicAliasSender(ushort clientMaximum) => _maximum = Math.Min(clientMaximum, Limit);

    /// <summary>
    /// The alias to send <paramref name="topic"/> with (0: none). <paramref name="known"/>: the client has
    /// it already, so the topic name goes out empty; otherwise the PUBLISH carries both and, once written,
    /// <see cref="Assigned"/> records it.
    /// </summary>
    public ushort Choose(string topic, out bool known)
    {
        known = _aliases.TryGetValue(topic, out var alias);
        if (known) return alias;
        return _aliases.Count < _maximum ? (ushort)(_aliases.Count + 1) : (ushort)0;
    }

    /// <summary>
    /// Records that a PUBLISH carrying <paramref name="topic"/> and a new <paramref name="alias"/> was written.
    /// Not before: a packet dropped unsent (over the client's Maximum Packet Size) set no alias at the client.
    /// </summary>
    public void Assigned(string topic, ushort alias) => _aliases[topic] = alias;
}
