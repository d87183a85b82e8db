namespace EdgeStream.Mqtt.Limits;

/// <summary>MQTT topic name rules a PUBLISH must follow (not filters: those may hold wildcards).</summary>
public static class MqttTopicName
{
    /// <summary>
    /// MQTT 3.1.1 §4.7.1 / MQTT 5 §4.7.1: a topic name (what a PUBLISH carries) must not contain the
    /// wildcards '+' or '#' [MQTT-3.3.2-2]; §1.5.3: no U+0000 [MQTT-1.5.3-2]; §4.7.3: at least one
    /// character (an MQTT 5 topic alias has been resolved to its topic before this check).
    /// </summary>
    public static bool IsValid(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.AsSpan().IndexOfAny('+', '#', '\0') < 0;
}
