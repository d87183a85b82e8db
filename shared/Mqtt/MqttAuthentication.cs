using System.Text;
using EdgeStream.Security.Authentication;
using EdgeStream.Security.Certificates;
using Microsoft.Extensions.Hosting;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeStream.Mqtt;

/// <summary>
/// Who an MQTT client is. A client certificate (verified against the fleet CA during the TLS
/// handshake, <c>--tls-client-auth</c>) authenticates it as <see cref="CertificatePrincipal"/>
/// names it, and the CONNECT's user name and password are then ignored, not checked — what mosquitto
/// does with <c>use_identity_as_username</c>: the certificate is the stronger proof, and a client
/// must not become someone else by adding a password. Without one, <c>--mqtt-auth required</c>: a
/// CONNECT must carry the user name and password of one of the node's users (checked against its
/// SCRAM credential, <see cref="UserAuthenticator.VerifyPassword"/>); otherwise it is anonymous.
/// Refusals, per spec: no credentials → not authorized (MQTT 5 0x87, 3.1.1 return code 5); a wrong
/// name or password → bad user name or password (0x86, 3.1.1 return code 4). Which of the two was
/// wrong is not said.
/// </summary>
public sealed class MqttAuthentication : IHostedService
{
    /// <summary>The session item holding the client's principal (<c>User:NAME</c>), which <see cref="MqttAuthorization"/> checks ACLs for.</summary>
    public const string PrincipalItem = "edgestream.principal";
    private const string Mechanism = "password";
    private const string CertificateMechanism = "certificate";
    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);

    private readonly MqttServer? _server;
    private readonly UserAuthenticator _authenticator;
    private readonly bool _passwordRequired;

    /// <param name="server">MQTTnet's server to hook, or null for the own broker core, which calls <see cref="Authenticate"/>.</param>
    /// <param name="passwordRequired"><c>--mqtt-auth required</c>: a client without a certificate needs a user name and password.</param>
    public MqttAuthentication(MqttServer? server, UserAuthenticator authenticator, bool passwordRequired)
    {
        _server = server;
        _authenticator = authenticator;
        _passwordRequired = passwordRequired;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) _server.ValidatingConnectionAsync += OnValidatingConnection;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null) _server.ValidatingConnectionAsync -= OnValidatingConnection;
        return Task.CompletedTask;
    }

    private Task OnValidatingConnection(ValidatingConnectionEventArgs e)
    {
        var code = Authenticate(e.ClientCertificate, e.UserName, e.RawPassword, e.RemoteEndPoint?.ToString(), out var principal);
        if (code != MqttConnectReasonCode.Success) e.ReasonCode = code;
        else if (principal is not null) e.SessionItems[PrincipalItem] = principal;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Checks one CONNECT: <see cref="MqttConnectReasonCode.Success"/> with the client's principal
    /// (null: anonymous), or the refusal to answer with. Both brokers (<see cref="MqttEngine"/>) call this.
    /// </summary>
    public MqttConnectReasonCode Authenticate(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate, string? user, byte[]? raw,
        string? remote, out string? principal)
    {
        principal = null;
        // Kestrel's TLS stage let it through only if the fleet CA issued it.
        if (certificate is not null)
        {
            var name = CertificatePrincipal.NameOf(certificate);
            principal = CertificatePrincipal.Of(certificate);
            _authenticator.Audit.Succeeded(AuthenticationProtocol.Mqtt, CertificateMechanism, name, remote);
            return MqttConnectReasonCode.Success;
        }
        if (!_passwordRequired) return MqttConnectReasonCode.Success;
        if (string.IsNullOrEmpty(user) || raw is null || raw.Length == 0)
        {
            // MQTT 5 §3.2.2.2 0x87 Not authorized; 3.1.1 §3.2.2.3 return code 5 (MQTTnet maps one to the other).
            _authenticator.Audit.Failed(AuthenticationProtocol.Mqtt, "none", user, remote);
            return MqttConnectReasonCode.NotAuthorized;
        }
        string password;
        try { password = s_strictUtf8.GetString(raw); }
        catch (DecoderFallbackException) { password = ""; }
        if (password.Length == 0 || !_authenticator.VerifyPassword(user, password))
        {
            // MQTT 5 0x86 Bad User Name or Password; 3.1.1 return code 4.
            _authenticator.Audit.Failed(AuthenticationProtocol.Mqtt, Mechanism, user, remote);
            return MqttConnectReasonCode.BadUserNameOrPassword;
        }
        principal = "User:" + user;
        _authenticator.Audit.Succeeded(AuthenticationProtocol.Mqtt, Mechanism, user, remote);
        return MqttConnectReasonCode.Success;
    }
}
