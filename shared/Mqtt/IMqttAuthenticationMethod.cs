namespace EdgeStream.Mqtt;

/// <summary>
/// One Authentication Method of MQTT 5 enhanced authentication (§4.12), named by the CONNECT's
/// Authentication Method property. Further methods plug in by implementing this and being handed to
/// <see cref="MqttEnhancedAuthentication"/>; the broker carries their data in CONNECT, AUTH and CONNACK.
/// </summary>
public interface IMqttAuthenticationMethod
{
    /// <summary>The Authentication Method string a client names it by, e.g. <c>SCRAM-SHA-256</c>.</summary>
    string Name { get; }

    /// <summary>A new exchange for one client: at CONNECT, or at a re-authentication.</summary>
    IMqttAuthenticationExchange Start();
}

/// <summary>The server side of one exchange of an <see cref="IMqttAuthenticationMethod"/>; used by one connection at a time.</summary>
public interface IMqttAuthenticationExchange
{
    /// <summary>Takes the client's next Authentication Data (empty when it sent none) and says what to answer.</summary>
    MqttAuthenticationStep Evaluate(ReadOnlySpan<byte> data);
}

/// <summary>Where an exchange stands after a client message.</summary>
public enum MqttAuthenticationStatus
{
    /// <summary>Send <see cref="MqttAuthenticationStep.Data"/> in AUTH 0x18 and wait for the client's answer.</summary>
    Continue,
    /// <summary>Authenticated as <see cref="MqttAuthenticationStep.User"/>; <see cref="MqttAuthenticationStep.Data"/> (may be empty) goes in CONNACK or AUTH 0x00.</summary>
    Succeeded,
    /// <summary>Refused. Why is not told to the client: an unknown user and a wrong password look alike.</summary>
    Failed,
}

/// <summary>What one client message of an exchange led to.</summary>
/// <param name="User">The user name the client claimed (known after its first message, may be null), the authenticated one on success.</param>
public readonly record struct MqttAuthenticationStep(MqttAuthenticationStatus Status, byte[] Data, string? User)
{
    public static MqttAuthenticationStep Continue(byte[] data, string? user) => new(MqttAuthenticationStatus.Continue, data, user);

    public static MqttAuthenticationStep Succeeded(string user, byte[] data) => new(MqttAuthenticationStatus.Succeeded, data, user);

    public static MqttAuthenticationStep Failed(string? user) => new(MqttAuthenticationStatus.Failed, [], user);
}
