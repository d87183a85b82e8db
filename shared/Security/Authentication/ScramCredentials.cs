using System.Security.Cryptography;
using EdgeStream.Common.Security;
using EdgeStream.Metadata;

namespace EdgeStream.Security.Authentication;

/// <summary>
/// Making and checking SCRAM credentials (RFC 5802 §3). The store keeps StoredKey and ServerKey,
/// from which neither the password nor a valid client proof can be computed.
/// </summary>
public static class ScramCredentials
{
    /// <summary>192 random bits; a multiple of 3 bytes, so the salt's base64 in server-first carries no '=' padding.</summary>
    internal const int SaltBytes = 24;

    /// <summary>A new credential for <paramref name="password"/> with a fresh random salt.</summary>
    public static StoredCredential Create(string password, ScramMechanism mechanism, int iterations)
    {
        CheckIterations(iterations);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return FromSaltedPassword(mechanism, salt, iterations, mechanism.SaltedPassword(password, salt, iterations));
    }

    /// <summary>
    /// The credential from SaltedPassword = Hi(password, salt, i), which is what a Kafka admin client
    /// sends in AlterUserScramCredentials (KIP-554): the password itself never reaches the broker.
    /// ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key").
    /// </summary>
    public static StoredCredential FromSaltedPassword(ScramMechanism mechanism, byte[] salt, int iterations, byte[] saltedPassword)
    {
        var clientKey = mechanism.Hmac(saltedPassword, "Client Key"u8);
        var serverKey = mechanism.Hmac(saltedPassword, "Server Key"u8);
        return new StoredCredential(mechanism.Name, salt, iterations, mechanism.H(clientKey), serverKey);
    }

    /// <summary>
    /// Whether <paramref name="password"/> is the one <paramref name="credential"/> was made from: the
    /// same derivation, StoredKey compared in constant time (SASL PLAIN and MQTT passwords).
    /// </summary>
    public static bool Verify(StoredCredential credential, string password)
    {
        var mechanism = ScramMechanism.FromName(credential.Mechanism);
        if (mechanism is null || credential.Iterations is < 1 or > ScramMechanism.MaxIterations) return false;
        var derived = FromSaltedPassword(mechanism, credential.Salt, credential.Iterations, mechanism.SaltedPassword(password, credential.Salt, credential.Iterations));
        return CryptographicOperations.FixedTimeEquals(derived.StoredKey, credential.StoredKey);
    }

    public static void CheckIterations(int iterations)
    {
        if (iterations is < ScramMechanism.MinIterations or > ScramMechanism.MaxIterations)
            throw new SecurityException($"SCRAM iterations must be from {ScramMechanism.MinIterations} to {ScramMechanism.MaxIterations}, not {iterations}.");
    }
}
