namespace EdgeStream.Mqtt;

/// <summary>Where MQTT messages go in the log.</summary>
public sealed class MqttBridgeOptions
{
    /// <summary>Which log topic each PUBLISH lands in (<c>--mqtt-map</c>); without rules, every PUBLISH goes to <c>mqtt</c>.</summary>
    public MqttTopicMap Map { get; init; } = new();

    /// <summary>The catch-all log topic (the implicit last rule <c>#=mqtt</c>).</summary>
    public string LogTopic => DefaultLogTopic;

    public const string DefaultLogTopic = "mqtt";
}
