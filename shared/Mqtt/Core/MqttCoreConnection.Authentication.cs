using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgeStream.Mqtt.Core;

/// <summary>
/// MQTT 5 enhanced authentication on one connection (§4.12, AUTH §3.15): a CONNECT naming an
/// Authentication Method starts an exchange of <see cref="MqttEnhancedAuthentication"/>; AUTH 0x18
/// packets carry it on until the CONNACK (success, with the method's last data) or a refusal. Once
/// connected, AUTH 0x19 with the same method re-authenticates while other packets keep flowing:
/// AUTH 0x00 on success, DISCONNECT 0x87 on failure.
/// </summary>
public sealed partial class MqttCoreConnection
{
    /// <summary>
    /// From accept to CONNACK, and for a re-authentication: a client that stops half way is closed by
    /// the sweep then. Generous for a person-free exchange of a few packets; no setting, since a
    /// client has no reason to need more.
    /// </summary>
    internal static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary><see cref="Environment.TickCount64"/> by which the CONNACK or the re-authentication must be done; 0 for none.</summary>
    private long _handshakeDeadlineMs;

    /// <summary>The CONNECT's Authentication Method: AUTH packets must name it (§4.12.1); null when it named none.</summary>
    private string? _authenticationMethod;

    /// <summary>The exchange in progress: the CONNECT's (while <see cref="_authenticatingConnect"/> is set) or a re-authentication.</summary>
    private MqttEnhancedExchange? _exchange;

    /// <summary>A CONNECT waiting for its exchange; until then only AUTH and DISCONNECT may come (§3.1.2.11.9).</summary>
    private MqttConnectPacket? _authenticatingConnect;

    /// <summary>Whether the CONNACK (or a re-authentication) is overdue: see <see cref="HandshakeTimeout"/>.</summary>
    internal bool IsHandshakeOverdue(long nowMs)
    {
        var deadline = Volatile.Read(ref _handshakeDeadlineMs);
        return deadline != 0 && nowMs > deadline;
    }

    private void StartHandshakeClock() => Volatile.Write(ref _handshakeDeadlineMs, Environment.TickCount64 + (long)HandshakeTimeout.TotalMilliseconds);

    private void StopHandshakeClock() => Volatile.Write(ref _handshakeDeadlineMs, 0);

    /// <summary>A CONNECT naming an Authentication Method: the exchange starts with its Authentication Data.</summary>
    private bool StartAuthentication(MqttConnectPacket connect)
    {
        var method = connect.AuthenticationMethod;
        _exchange = _broker.EnhancedAuthentication?.Start(method, RemoteEndPoint);
        if (_exchange is null)
        {
            // §4.12: a method the server does not support is CONNACK 0x8C Bad authentication method.
            return RefuseConnAck(MqttConnectReasonCode.BadAuthenticationMethod);
        }
        _authenticationMethod = method;
        _authenticatingConnect = connect;
        return Step(connect.AuthenticationData);
    }

    /// <summary>
    /// The client's next Authentication Data for the exchange in progress: AUTH 0x18 while the method
    /// wants more, else the end of the CONNECT's exchange or of the re-authentication.
    /// </summary>
    private bool Step(byte[]? data)
    {
        var exchange = _exchange!;
        var step = exchange.Evaluate(data ?? []);
        if (step.Status == MqttAuthenticationStatus.Continue)
        {
            Send(Auth(MqttAuthenticateReasonCode.ContinueAuthentication, step.Data));
            return true;
        }
        _exchange = null;
        var succeeded = step.Status == MqttAuthenticationStatus.Succeeded;
        if (_authenticatingConnect is { } connect)
        {
            _authenticatingConnect = null;
            // §4.12: a failed exchange is refused in CONNACK. 0x87 Not authorized rather than 0x86: that one
            // speaks of the CONNECT's user name and password fields, which enhanced authentication leaves empty.
            return succeeded ? Accept(connect, null, exchange.Principal, step.Data) : RefuseConnAck(MqttConnectReasonCode.NotAuthorized);
        }
        if (!succeeded)
        {
            // §4.12.1: a failed re-authentication ends the connection, with DISCONNECT saying why.
            Close(MqttDisconnectReasonCode.NotAuthorized);
            return false;
        }
        StopHandshakeClock();
        Send(Auth(MqttAuthenticateReasonCode.Success, step.Data));
        return true;
    }

    /// <summary>An AUTH from the client; false ends the connection.</summary>
    private bool OnAuth(MqttAuthPacket auth)
    {
        // §3.1.2.11.9, §4.12.1: only a client that named a method in CONNECT may send AUTH, and only with that method.
        if (_authenticationMethod is null) return AuthViolation("AUTH without an Authentication Method in CONNECT");
        if (!string.Equals(auth.AuthenticationMethod, _authenticationMethod, StringComparison.Ordinal)) return AuthViolation("AUTH with another Authentication Method than CONNECT's");
        if (_authenticatingConnect is not null)
        {
            return auth.ReasonCode == MqttAuthenticateReasonCode.ContinueAuthentication
                ? Step(auth.AuthenticationData)
                : AuthViolation($"AUTH {auth.ReasonCode} before CONNACK");
        }
        switch (auth.ReasonCode)
        {
            case MqttAuthenticateReasonCode.ReAuthenticate when _exchange is null:
                // The CONNECT's method was offered then, so it is now.
                _exchange = _broker.EnhancedAuthentication!.Start(_authenticationMethod, RemoteEndPoint, Principal);
                if (_exchange is null) return AuthViolation("re-authentication method no longer offered");
                StartHandshakeClock();
                return Step(auth.AuthenticationData);
            case MqttAuthenticateReasonCode.ContinueAuthentication when _exchange is not null:
                return Step(auth.AuthenticationData);
            default:
                return AuthViolation(_exchange is null ? $"AUTH {auth.ReasonCode} outside an exchange" : $"AUTH {auth.ReasonCode} during a re-authentication");
        }
    }

    /// <summary>
    /// An AUTH out of place is a Protocol Error (§4.13): before the CONNACK it is refused in CONNACK 0x82 (no
    /// DISCONNECT may precede the CONNACK), afterwards with DISCONNECT 0x82.
    /// </summary>
    private bool AuthViolation(string description)
    {
        if (Session is not null)
        {
            Violation(MqttDisconnectReasonCode.ProtocolError, description);
            return false;
        }
        _broker.CountViolation(this, description);
        return RefuseConnAck(MqttConnectReasonCode.ProtocolError);
    }

    private MqttAuthPacket Auth(MqttAuthenticateReasonCode reason, byte[] data) => new()
    {
        ReasonCode = reason,
        AuthenticationMethod = _authenticationMethod,
        // §3.15.2.2.3: absent rather than empty when the method has nothing to say.
        AuthenticationData = data.Length == 0 ? null : data,
    };
}
