namespace EdgeStream.Mqtt;

/// <summary>Which broker serves the MQTT listener (<c>--mqtt-engine</c>).</summary>
public enum MqttEngine
{
    /// <summary>MQTTnet's <c>MqttServer</c> with EdgeStream's hooks (the default while the core is being completed).</summary>
    MqttNet,
    /// <summary>EdgeStream's own broker core on Kestrel's connection pipeline (<see cref="Core.MqttCoreBroker"/>).</summary>
    Own,
}
