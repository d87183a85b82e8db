using System.Net;
using EdgeStream.Security.Authentication;

namespace EdgeStream.Kafka.Server;

/// <summary>
/// What one Kafka connection has established: its SASL state and the principal it acts as. Read
/// and changed only by the connection's read loop (handlers' synchronous parts run there, in
/// arrival order), so a request sees exactly the authentication of the requests before it.
/// </summary>
public sealed class KafkaSession
{
    public KafkaSession(EndPoint? remoteEndPoint = null, string? principal = null)
    {
        RemoteEndPoint = remoteEndPoint;
        Principal = principal;
    }

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>
    /// Who the connection acts as, Kafka style: <c>User:NAME</c> after SASL, <c>User:NODE_ID</c> (or
    /// the subject) for a client certificate, null when anonymous (ACLs then apply to <c>User:ANONYMOUS</c>).
    /// </summary>
    public string? Principal { get; internal set; }

    internal SaslState State { get; set; } = SaslState.Initial;

    /// <summary>The exchange SaslHandshake chose, fed by SaslAuthenticate.</summary>
    internal SaslServerExchange? Exchange { get; set; }

    /// <summary>SaslHandshake v0 was used: the tokens that follow are bare frames, not SaslAuthenticate requests (KIP-43).</summary>
    internal bool LegacyTokens { get; set; }

    public bool IsAuthenticated => State == SaslState.Authenticated;

    /// <summary>Whether the next frame is a bare SASL token (after SaslHandshake v0) rather than a request.</summary>
    public bool ExpectsBareToken => LegacyTokens && State == SaslState.Handshaken;
}

/// <summary>
/// Kafka's SASL state machine (SaslServerAuthenticator): ApiVersions and SaslHandshake first,
/// SaslAuthenticate until done; a failure is final for the connection.
/// </summary>
internal enum SaslState { Initial, Handshaken, Authenticated, Failed }
