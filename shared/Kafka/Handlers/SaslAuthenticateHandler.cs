using System.Buffers;
using System.Net;
using EdgeStream.Kafka.Protocol.Messages;
using EdgeStream.Kafka.Protocol.Primitives;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // SaslAuthenticate v0-2 (KIP-152): one client message of the exchange SaslHandshake chose, the
    // server's answer in auth_bytes. Runs in the connection's read loop, so the next request already
    // sees the outcome. A failure is answered with SASL_AUTHENTICATION_FAILED and a message that does
    // not say whether the user exists, then the connection is closed, as Kafka does.
    private KafkaResponse HandleSaslAuthenticate(KafkaRequestContext context, SaslAuthenticateRequest request)
    {
        var legacy = context.Session.ExpectsBareToken;
        var session = context.Session;
        if (session.State != SaslState.Handshaken || session.Exchange is not { } exchange)
        {
            session.State = SaslState.Failed;
            return new KafkaResponse(new SaslAuthenticateResponse
            {
                ErrorCode = (short)KafkaErrorCode.IllegalSaslState,
                ErrorMessage = session.IsAuthenticated ? "already authenticated" : "SaslAuthenticate before SaslHandshake",
            }) { CloseAfter = true, BareToken = legacy };
        }

        var outcome = exchange.Evaluate(request.AuthBytes, out var challenge);
        var remote = context.RemoteEndPoint?.ToString();
        switch (outcome)
        {
            case SaslOutcome.Continue:
                return new KafkaResponse(new SaslAuthenticateResponse { AuthBytes = challenge }) { BareToken = legacy };
            case SaslOutcome.Succeeded:
                session.State = SaslState.Authenticated;
                session.Exchange = null;
                session.Principal = "User:" + exchange.UserName;
                Authenticator!.Audit.Succeeded(AuthenticationProtocol.Kafka, exchange.Mechanism, exchange.UserName!, remote);
                // session_lifetime_ms 0 (v1+): the session does not expire, the client never re-authenticates.
                return new KafkaResponse(new SaslAuthenticateResponse { AuthBytes = challenge, SessionLifetimeMs = 0 }) { BareToken = legacy };
            default:
                session.State = SaslState.Failed;
                session.Exchange = null;
                Authenticator!.Audit.Failed(AuthenticationProtocol.Kafka, exchange.Mechanism, exchange.UserName, remote);
                return new KafkaResponse(new SaslAuthenticateResponse
                {
                    ErrorCode = (short)KafkaErrorCode.SaslAuthenticationFailed,
                    // Kafka's own wording: the same for an unknown user and a wrong password.
                    ErrorMessage = $"Authentication failed during authentication due to invalid credentials with SASL mechanism {exchange.Mechanism}",
                }) { CloseAfter = true, BareToken = legacy };
        }
    }

    /// <summary>
    /// A bare SASL token after SaslHandshake v0 (KIP-43: no request header, just the size prefix):
    /// handled as a SaslAuthenticate request, answered with a bare token (an empty one, size 0, for the
    /// last step of PLAIN) or, on failure, nothing: the connection is closed, as Kafka does.
    /// </summary>
    public ValueTask<KafkaResponse?> AuthenticateBareToken(ReadOnlySequence<byte> frame, KafkaSession session, EndPoint? remoteEndPoint)
    {
        var header = new RequestHeader { ApiKey = (short)ApiKey.SaslAuthenticate, ApiVersion = 0 };
        var context = new KafkaRequestContext { Header = header, RemoteEndPoint = remoteEndPoint, Session = session };
        return ValueTask.FromResult<KafkaResponse?>(HandleSaslAuthenticate(context, new SaslAuthenticateRequest { AuthBytes = frame.ToArray() }));
    }
}
