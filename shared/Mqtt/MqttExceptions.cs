namespace EdgeStream.Mqtt;

/// <summary>The root of the exceptions the MQTT library throws on purpose.</summary>
public class MqttException : EdgeStreamException
{
    public MqttException(string message) : base(message) { }
    public MqttException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Why the bridge refused a message; maps onto MQTT 5 PUBACK/PUBREC reason codes.</summary>
public enum BridgeRefusal
{
    /// <summary>The disk budget (--max-disk) is full: 0x97 quota exceeded.</summary>
    QuotaExceeded,
    /// <summary>Storage is not open or the log topic cannot be created: 0x83 implementation specific error.</summary>
    Unavailable,
    /// <summary>The message does not fit a record batch (too large, invalid): 0x99 payload format invalid.</summary>
    Invalid,
}

/// <summary>An append that did not happen, with the reason a client can act on.</summary>
public sealed class MqttBridgeException : MqttException
{
    public MqttBridgeException(BridgeRefusal refusal, string message) : base(message) => Refusal = refusal;

    public MqttBridgeException(BridgeRefusal refusal, string message, Exception inner) : base(message, inner) => Refusal = refusal;

    public BridgeRefusal Refusal { get; }

    /// <summary>The MQTT 5 PUBACK/PUBREC reason for a failed append (<paramref name="ex"/> need not be a bridge refusal).</summary>
    public static (MQTTnet.Protocol.MqttPubAckReasonCode Code, string Reason) ReasonFor(Exception? ex) => ex is MqttBridgeException bridge
        ? (bridge.Refusal switch
        {
            BridgeRefusal.QuotaExceeded => MQTTnet.Protocol.MqttPubAckReasonCode.QuotaExceeded,
            BridgeRefusal.Invalid => MQTTnet.Protocol.MqttPubAckReasonCode.PayloadFormatInvalid,
            _ => MQTTnet.Protocol.MqttPubAckReasonCode.ImplementationSpecificError,
        }, bridge.Message)
        : (MQTTnet.Protocol.MqttPubAckReasonCode.UnspecifiedError, "append failed");
}
