using EdgeStream.Security.Authentication;

namespace EdgeStream.Mqtt;

/// <summary>
/// MQTT 5 enhanced authentication (§4.12) apart from its packets: the Authentication Methods offered,
/// by name, and the rules every method shares: the principal is <c>User:NAME</c> (what
/// <see cref="MqttAuthorization"/> checks ACLs for, as after a password login), every outcome is
/// audited as password logins are (<see cref="AuthenticationAudit"/>, mechanism = the method), and a
/// re-authentication must prove the identity the connection already has. Only the own broker core
/// (<c>--mqtt-engine own</c>) carries the exchanges; MQTTnet's server is not given them.
/// </summary>
public sealed class MqttEnhancedAuthentication
{
    /// <summary>The audit's mechanism for a CONNECT naming a method not offered (the client's string is not logged).</summary>
    private const string UnsupportedMechanism = "unsupported authentication method";
    private readonly Dictionary<string, IMqttAuthenticationMethod> _methods = new(StringComparer.Ordinal);
    private readonly AuthenticationAudit _audit;

    public MqttEnhancedAuthentication(IEnumerable<IMqttAuthenticationMethod> methods, AuthenticationAudit audit)
    {
        foreach (var method in methods) _methods.Add(method.Name, method);
        _audit = audit;
    }

    /// <summary>The methods offered and the node's users: SCRAM-SHA-256 and SCRAM-SHA-512.</summary>
    public static MqttEnhancedAuthentication WithScram(UserAuthenticator authenticator) =>
        new(MqttSaslAuthenticationMethod.Scram(authenticator), authenticator.Audit);

    /// <summary>
    /// An exchange of <paramref name="method"/> for the client at <paramref name="remote"/>, or null (audited
    /// as a failure) when the method is not offered. With <paramref name="principal"/> it is a
    /// re-authentication: success as anyone else is a failure.
    /// </summary>
    public MqttEnhancedExchange? Start(string method, string? remote, string? principal = null)
    {
        if (_methods.TryGetValue(method, out var offered)) return new MqttEnhancedExchange(offered.Name, offered.Start(), this, remote, principal);
        _audit.Failed(AuthenticationProtocol.Mqtt, UnsupportedMechanism, null, remote);
        return null;
    }

    internal void Audit(MqttEnhancedExchange exchange, MqttAuthenticationStep step)
    {
        if (step.Status == MqttAuthenticationStatus.Succeeded) _audit.Succeeded(AuthenticationProtocol.Mqtt, exchange.Method, step.User!, exchange.Remote);
        else _audit.Failed(AuthenticationProtocol.Mqtt, exchange.Method, step.User, exchange.Remote);
    }
}
