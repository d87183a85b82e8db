using System.Text;

namespace EdgeStream.Security.Authentication;

/// <summary>
/// SASL PLAIN (RFC 4616): one message, <c>[authzid] NUL authcid NUL passwd</c>, checked against the
/// user's SCRAM credential (<see cref="UserAuthenticator.VerifyPassword"/>): no password is stored
/// for PLAIN's sake.
/// </summary>
public sealed class PlainExchange : SaslServerExchange
{
    public const string Name = "PLAIN";
    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);
    private readonly UserAuthenticator _authenticator;
    private bool _done;

    public PlainExchange(UserAuthenticator authenticator) => _authenticator = authenticator;

    public override string Mechanism => Name;

    public override SaslOutcome Evaluate(ReadOnlySpan<byte> response, out byte[] challenge)
    {
        challenge = [];
        if (_done) return SaslOutcome.Failed;
        _done = true;
        if (!TryParse(response, out var authzid, out var user, out var password)) return SaslOutcome.Failed;
        UserName = user;
        // RFC 4616 §2: acting as another identity is the server's policy; ours (as Kafka's) is "only as yourself".
        if (authzid.Length > 0 && authzid != user) return SaslOutcome.Failed;
        return _authenticator.VerifyPassword(user, password) ? SaslOutcome.Succeeded : SaslOutcome.Failed;
    }

    /// <summary>message = [authzid] UTF8NUL authcid UTF8NUL passwd, authcid and passwd non-empty (RFC 4616 §2).</summary>
    internal static bool TryParse(ReadOnlySpan<byte> message, out string authzid, out string user, out string password)
    {
        authzid = user = password = "";
        var first = message.IndexOf((byte)0);
        if (first < 0) return false;
        var rest = message[(first + 1)..];
        var second = rest.IndexOf((byte)0);
        if (second <= 0 || second == rest.Length - 1 || rest[(second + 1)..].IndexOf((byte)0) >= 0) return false;
        try
        {
            authzid = s_strictUtf8.GetString(message[..first]);
            user = s_strictUtf8.GetString(rest[..second]);
            password = s_strictUtf8.GetString(rest[(second + 1)..]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        return true;
    }
}
