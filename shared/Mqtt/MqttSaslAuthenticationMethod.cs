using EdgeStream.Common.Security;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Mqtt;

/// <summary>
/// A SASL mechanism of the node (<see cref="SaslServerExchange"/>, the same exchanges Kafka's SASL
/// uses) as an MQTT 5 Authentication Method: the SASL messages travel as Authentication Data. SCRAM
/// checks the node's users (<c>edgestream users add</c>, AlterUserScramCredentials), so an MQTT
/// client and a Kafka client of the same user share one credential.
/// </summary>
public sealed class MqttSaslAuthenticationMethod : IMqttAuthenticationMethod
{
    private readonly Func<SaslServerExchange> _start;

    private MqttSaslAuthenticationMethod(string name, Func<SaslServerExchange> start)
    {
        Name = name;
        _start = start;
    }

    public string Name { get; }

    /// <summary>
    /// SCRAM-SHA-256 and SCRAM-SHA-512 by their SASL names, which is what MQTT brokers offering SCRAM
    /// (EMQX, HiveMQ) call the methods too. PLAIN is not offered: a password goes in CONNECT's password field.
    /// </summary>
    public static IReadOnlyList<IMqttAuthenticationMethod> Scram(UserAuthenticator authenticator) =>
        [.. ScramMechanism.All.Select(m => new MqttSaslAuthenticationMethod(m.Name, () => new ScramExchange(m, authenticator)))];

    public IMqttAuthenticationExchange Start() => new Exchange(_start());

    private sealed class Exchange(SaslServerExchange sasl) : IMqttAuthenticationExchange
    {
        public MqttAuthenticationStep Evaluate(ReadOnlySpan<byte> data) => sasl.Evaluate(data, out var challenge) switch
        {
            SaslOutcome.Continue => MqttAuthenticationStep.Continue(challenge, sasl.UserName),
            // A SASL exchange succeeds only once it has read a user name.
            SaslOutcome.Succeeded => MqttAuthenticationStep.Succeeded(sasl.UserName!, challenge),
            _ => MqttAuthenticationStep.Failed(sasl.UserName),
        };
    }
}
