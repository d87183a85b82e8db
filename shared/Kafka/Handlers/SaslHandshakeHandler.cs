using EdgeStream.Kafka.Protocol.Messages;

namespace EdgeStream.Kafka.Server;

public sealed partial class KafkaBroker
{
    // SaslHandshake (KIP-43, KIP-152): the client names a mechanism; after v1 the tokens follow in
    // SaslAuthenticate requests, after v0 as bare size-prefixed frames. Answered with the enabled mechanisms whatever the outcome, so a client can pick another.
    private SaslHandshakeResponse HandleSaslHandshake(KafkaRequestContext context, SaslHandshakeRequest request)
    {
        var session = context.Session;
        var response = new SaslHandshakeResponse { Mechanisms = [.. Options.SaslMechanisms] };
        // One handshake per connection: re-authentication (KIP-368) is not offered (session_lifetime_ms 0).
        if (session.State != SaslState.Initial)
        {
            response.ErrorCode = (short)KafkaErrorCode.IllegalSaslState;
            return response;
        }
        if (!Options.SaslMechanisms.Contains(request.Mechanism) || Authenticator?.Start(request.Mechanism) is not { } exchange)
        {
            response.ErrorCode = (short)KafkaErrorCode.UnsupportedSaslMechanism;
            return response;
        }
        session.Exchange = exchange;
        session.State = SaslState.Handshaken;
        session.LegacyTokens = context.Version == 0;
        return response;
    }
}
