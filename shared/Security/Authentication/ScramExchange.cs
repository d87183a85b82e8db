using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeStream.Common.Security;
using EdgeStream.Metadata;

namespace EdgeStream.Security.Authentication;

/// <summary>
/// The server side of SCRAM (RFC 5802 §5, SHA-256 per RFC 7677, SHA-512 alike): client-first →
/// server-first (nonce, salt, iterations), client-final (proof) → server-final (ServerSignature).
/// No channel binding (<c>n</c> or <c>y</c> only), as Kafka. For a user without a credential the
/// exchange goes on with a decoy salt and fails at the proof, so the first answer does not tell
/// whether the user exists.
/// </summary>
public sealed class ScramExchange : SaslServerExchange
{
    /// <summary>SCRAM messages are a few hundred bytes; anything this long is not one.</summary>
    private const int MaxMessageBytes = 4096;
    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);

    private readonly ScramMechanism _mechanism;
    private readonly UserAuthenticator _authenticator;
    private State _state = State.AwaitingClientFirst;
    private StoredCredential? _credential;
    private bool _known;
    private string _gs2Header = "";
    private string _clientFirstBare = "";
    private string _serverFirst = "";
    private string _nonce = "";

    private enum State { AwaitingClientFirst, AwaitingClientFinal, Done }

    public ScramExchange(ScramMechanism mechanism, UserAuthenticator authenticator)
    {
        _mechanism = mechanism;
        _authenticator = authenticator;
    }

    public override string Mechanism => _mechanism.Name;

    public override SaslOutcome Evaluate(ReadOnlySpan<byte> response, out byte[] challenge)
    {
        challenge = [];
        var state = _state;
        _state = State.Done; // a failure ends the exchange; success paths set the next state
        if (response.Length > MaxMessageBytes || !TryDecode(response, out var text)) return SaslOutcome.Failed;
        switch (state)
        {
            case State.AwaitingClientFirst:
                if (!ClientFirst(text, out var serverFirst)) return SaslOutcome.Failed;
                challenge = Encoding.UTF8.GetBytes(serverFirst);
                _state = State.AwaitingClientFinal;
                return SaslOutcome.Continue;
            case State.AwaitingClientFinal:
                if (!ClientFinal(text, out var serverFinal)) return SaslOutcome.Failed;
                challenge = Encoding.UTF8.GetBytes(serverFinal);
                return SaslOutcome.Succeeded;
            default:
                return SaslOutcome.Failed;
        }
    }

    // client-first-message = gs2-header client-first-message-bare
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","      gs2-cbind-flag = "p=" cb-name / "n" / "y"
    // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
    private bool ClientFirst(string text, out string serverFirst)
    {
        serverFirst = "";
        if (text.Length < 3 || text[0] is not ('n' or 'y') || text[1] != ',') return false; // "p=": channel binding, not offered
        var authzEnd = text.IndexOf(',', 2);
        if (authzEnd < 0) return false;
        var authzid = "";
        if (authzEnd > 2)
        {
            if (!text.AsSpan(2).StartsWith("a=") || !TryUnescape(text[4..authzEnd], out authzid)) return false;
        }
        _gs2Header = text[..(authzEnd + 1)];
        _clientFirstBare = text[(authzEnd + 1)..];
        var attributes = _clientFirstBare.Split(',');
        if (attributes.Length < 2 || !attributes[0].StartsWith("n=", StringComparison.Ordinal) || !attributes[1].StartsWith("r=", StringComparison.Ordinal)) return false;
        if (!TryUnescape(attributes[0][2..], out var user) || user.Length == 0) return false;
        var clientNonce = attributes[1][2..];
        if (clientNonce.Length == 0) return false;
        foreach (var extension in attributes.AsSpan(2))
        {
            // Kafka's extension for delegation tokens (KIP-48); this node has none.
            if (extension.StartsWith("tokenauth=", StringComparison.Ordinal) && !extension.Equals("tokenauth=false", StringComparison.OrdinalIgnoreCase)) return false;
        }
        UserName = user;
        if (authzid.Length > 0 && authzid != user) return false;

        _credential = _authenticator.Store.Get(user, _mechanism.Name);
        _known = _credential is not null;
        _credential ??= _authenticator.Decoy(user, _mechanism);
        _nonce = clientNonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        // server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
        serverFirst = string.Create(CultureInfo.InvariantCulture, $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}");
        _serverFirst = serverFirst;
        return true;
    }

    // client-final-message = client-final-message-without-proof "," proof
    // client-final-message-without-proof = channel-binding "," nonce ["," extensions]
    private bool ClientFinal(string text, out string serverFinal)
    {
        serverFinal = "";
        var proofAt = text.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) return false;
        var withoutProof = text[..proofAt];
        var attributes = withoutProof.Split(',');
        // channel-binding = "c=" base64(gs2-header): no channel binding data follows it.
        if (attributes.Length < 2 || attributes[0] != "c=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header))) return false;
        // RFC 5802 wants the nonce of server-first exactly; Kafka accepts any nonce ending with it
        // (ScramSaslServer), and librdkafka 2.0 (Debian's kcat) sends the client nonce twice. The
        // server's random part is still there, so a replayed proof cannot match.
        if (!attributes[1].StartsWith("r=", StringComparison.Ordinal) || !attributes[1].EndsWith(_nonce, StringComparison.Ordinal)) return false;
        var proof = new byte[_mechanism.KeyBytes];
        if (!Convert.TryFromBase64String(text[(proofAt + 3)..], proof, out var written) || written != proof.Length) return false;

        var credential = _credential!;
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + _serverFirst + "," + withoutProof);
        // ClientKey = ClientProof XOR ClientSignature, ClientSignature = HMAC(StoredKey, AuthMessage); the proof is good when H(ClientKey) = StoredKey.
        var clientSignature = _mechanism.Hmac(credential.StoredKey, authMessage);
        for (var i = 0; i < proof.Length; i++) proof[i] ^= clientSignature[i];
        var matches = CryptographicOperations.FixedTimeEquals(_mechanism.H(proof), credential.StoredKey);
        if (!matches || !_known) return false;
        // server-final-message = verifier, verifier = "v=" base64(ServerSignature), ServerSignature = HMAC(ServerKey, AuthMessage)
        serverFinal = "v=" + Convert.ToBase64String(_mechanism.Hmac(credential.ServerKey, authMessage));
        return true;
    }

    /// <summary>saslname: "=2C" is ',', "=3D" is '=', any other '=' is malformed (RFC 5802 §5.1).</summary>
    private static bool TryUnescape(string saslName, out string name)
    {
        name = saslName;
        if (saslName.IndexOf('=') < 0) return true;
        var sb = new StringBuilder(saslName.Length);
        for (var i = 0; i < saslName.Length; i++)
        {
            if (saslName[i] != '=') { sb.Append(saslName[i]); continue; }
            if (i + 2 >= saslName.Length) return false;
            var code = saslName.Substring(i + 1, 2);
            if (code == "2C") sb.Append(',');
            else if (code == "3D") sb.Append('=');
            else return false;
            i += 2;
        }
        name = sb.ToString();
        return true;
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = s_strictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}
