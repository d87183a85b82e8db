using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeStream.Common.Security;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// The client side of SCRAM (RFC 5802 §3 and §5, SHA-256 per RFC 7677, SHA-512 alike), as Kafka's
/// clients speak it: no channel binding (gs2 header <c>n,,</c>), the password's UTF-8 bytes without
/// SASLprep. client-first → server-first (nonce, salt, iterations) → client-final with the proof →
/// server-final, whose ServerSignature proves the broker knows the credential too.
/// </summary>
public sealed class ScramClient
{
    private const string Gs2Header = "n,,";

    private readonly ScramMechanism _mechanism;
    private readonly string _username;
    private readonly string _password;
    private readonly string _clientNonce;
    private string _clientFirstBare = "";
    private byte[]? _expectedServerSignature;

    /// <param name="nonce">The client nonce; null draws 24 random bytes. Given only by tests (RFC 7677's example).</param>
    public ScramClient(ScramMechanism mechanism, string username, string password, string? nonce = null)
    {
        _mechanism = mechanism;
        _username = username;
        _password = password;
        _clientNonce = nonce ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
    }

    /// <summary>client-first-message: <c>n,,n=USER,r=NONCE</c>.</summary>
    public byte[] ClientFirst()
    {
        _clientFirstBare = $"n={Escape(_username)},r={_clientNonce}";
        return Encoding.UTF8.GetBytes(Gs2Header + _clientFirstBare);
    }

    /// <summary>
    /// client-final-message for <paramref name="serverFirst"/>: <c>c=biws,r=NONCE,p=PROOF</c>. Throws
    /// <see cref="KafkaClientException"/> when server-first is malformed, does not extend our nonce, or
    /// asks fewer iterations than SCRAM's minimum (a broker must not weaken the derivation).
    /// </summary>
    public byte[] ClientFinal(ReadOnlySpan<byte> serverFirst)
    {
        var text = Encoding.UTF8.GetString(serverFirst);
        string? nonce = null, salt = null, iterations = null;
        foreach (var attribute in text.Split(','))
        {
            if (attribute.StartsWith("r=", StringComparison.Ordinal)) nonce = attribute[2..];
            else if (attribute.StartsWith("s=", StringComparison.Ordinal)) salt = attribute[2..];
            else if (attribute.StartsWith("i=", StringComparison.Ordinal)) iterations = attribute[2..];
            else if (attribute.StartsWith("e=", StringComparison.Ordinal)) throw Failed($"the broker refused: {attribute[2..]}");
        }
        if (nonce is null || salt is null || iterations is null) throw Failed("the broker's server-first message is malformed");
        // The server nonce must extend ours: otherwise the proof could be replayed elsewhere.
        if (nonce.Length <= _clientNonce.Length || !nonce.StartsWith(_clientNonce, StringComparison.Ordinal))
            throw Failed("the broker's nonce does not extend the client's");
        if (!int.TryParse(iterations, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < ScramMechanism.MinIterations)
            throw Failed($"the broker asks {iterations} iterations, fewer than SCRAM's minimum of {ScramMechanism.MinIterations}");
        byte[] saltBytes;
        try { saltBytes = Convert.FromBase64String(salt); }
        catch (FormatException) { throw Failed("the broker's salt is not base64"); }

        var withoutProof = $"c={Convert.ToBase64String(Encoding.UTF8.GetBytes(Gs2Header))},r={nonce}";
        var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + text + "," + withoutProof);
        var saltedPassword = _mechanism.SaltedPassword(_password, saltBytes, count);
        // ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage); ServerSignature = HMAC(ServerKey, AuthMessage).
        var clientKey = _mechanism.Hmac(saltedPassword, "Client Key"u8);
        var clientSignature = _mechanism.Hmac(_mechanism.H(clientKey), authMessage);
        var proof = new byte[clientKey.Length];
        for (var i = 0; i < proof.Length; i++) proof[i] = (byte)(clientKey[i] ^ clientSignature[i]);
        _expectedServerSignature = _mechanism.Hmac(_mechanism.Hmac(saltedPassword, "Server Key"u8), authMessage);
        CryptographicOperations.ZeroMemory(saltedPassword);
        return Encoding.UTF8.GetBytes(withoutProof + ",p=" + Convert.ToBase64String(proof));
    }

    /// <summary>Checks server-final (<c>v=SIGNATURE</c>): a broker that does not know the credential cannot make it.</summary>
    public void VerifyServerFinal(ReadOnlySpan<byte> serverFinal)
    {
        if (_expectedServerSignature is null) throw new InvalidOperationException("server-final before client-final");
        var text = Encoding.UTF8.GetString(serverFinal);
        if (text.StartsWith("e=", StringComparison.Ordinal)) throw Failed($"the broker refused: {text[2..]}");
        var signature = new byte[_expectedServerSignature.Length];
        if (!text.StartsWith("v=", StringComparison.Ordinal)
            || !Convert.TryFromBase64String(text[2..], signature, out var written) || written != signature.Length
            || !CryptographicOperations.FixedTimeEquals(signature, _expectedServerSignature))
            throw Failed("the broker's server signature does not verify (it does not hold this user's credential)");
    }

    /// <summary>saslname (RFC 5802 §5.1): ',' is written "=2C" and '=' "=3D".</summary>
    private static string Escape(string name) => name.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal);

    private KafkaClientException Failed(string why) =>
        new($"{_mechanism.Name} authentication failed: {why}", KafkaErrors.SaslAuthenticationFailed);
}
