using System.Security.Cryptography;
using System.Text;
using EdgeStream.Common.Security;
using EdgeStream.Metadata;

namespace EdgeStream.Security.Authentication;

/// <summary>
/// Checks who a client is against the node's users (<see cref="UserCredentialStore"/>): starts
/// SASL exchanges for Kafka, verifies a name and password for SASL PLAIN and MQTT. Every outcome a
/// protocol reports goes to <see cref="Audit"/>.
/// </summary>
public sealed class UserAuthenticator
{
    /// <summary>Per process: decoy salts are stable for a name (a prober asking twice sees the same salt) but not across nodes.</summary>
    // Made on first use, not at start: the crypto RNG is OpenSSL on Linux, and a node without SASL must start
    // without loading it (the arm64 smoke test runs under qemu with no arm64 libssl).
    private readonly Lazy<byte[]> _decoyKey = new(static () => RandomNumberGenerator.GetBytes(32));

    public UserAuthenticator(UserCredentialStore store, AuthenticationAudit audit)
    {
        Store = store;
        Audit = audit;
    }

    public UserCredentialStore Store { get; }
    public AuthenticationAudit Audit { get; }

    /// <summary>The server side of <paramref name="mechanism"/> (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), or null for another.</summary>
    public SaslServerExchange? Start(string mechanism)
    {
        if (string.Equals(mechanism, PlainExchange.Name, StringComparison.Ordinal)) return new PlainExchange(this);
        var scram = ScramMechanism.FromName(mechanism);
        // SASL mechanism names are upper case (RFC 4422 §3.1); Kafka matches them exactly.
        return scram is not null && scram.Name == mechanism ? new ScramExchange(scram, this) : null;
    }

    /// <summary>
    /// Whether <paramref name="password"/> is the user's: derived with the salt and iterations of its
    /// strongest SCRAM credential and compared with the stored key. For an unknown user a decoy is
    /// derived just the same, so the answer takes as long either way.
    /// </summary>
    public bool VerifyPassword(string user, string password)
    {
        var credentials = Store.GetAll(user);
        foreach (var mechanism in ScramMechanism.All)
        {
            foreach (var credential in credentials)
                if (credential.Mechanism == mechanism.Name) return ScramCredentials.Verify(credential, password);
        }
        _ = ScramCredentials.Verify(Decoy(user, ScramMechanism.Sha512), password);
        return false;
    }

    /// <summary>A credential nobody has the password for, with a salt derived from the name (stable per process).</summary>
    internal StoredCredential Decoy(string user, ScramMechanism mechanism)
    {
        var salt = HMACSHA256.HashData(_decoyKey.Value, Encoding.UTF8.GetBytes(mechanism.Name + "\0" + user))[..ScramCredentials.SaltBytes];
        return new StoredCredential(mechanism.Name, salt, ScramMechanism.MinIterations, RandomNumberGenerator.GetBytes(mechanism.KeyBytes), RandomNumberGenerator.GetBytes(mechanism.KeyBytes));
    }

    /// <summary>
    /// A user name the store accepts: 1-256 characters, no control characters, no ',' or '='
    /// (they would need escaping in a SCRAM exchange and in <c>User:NAME</c> lists), no ':'.
    /// </summary>
    public static bool IsValidUserName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 256) return false;
        foreach (var c in name)
            if (char.IsControl(c) || c is ',' or '=' or ':' || char.IsWhiteSpace(c)) return false;
        return true;
    }
}
