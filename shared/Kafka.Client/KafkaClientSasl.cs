using EdgeStream.Common.Security;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// SASL authentication on every connection (Kafka's SASL_PLAINTEXT and SASL_SSL): SaslHandshake v1
/// then SaslAuthenticate with PLAIN (RFC 4616) or SCRAM-SHA-256/512 (RFC 5802, RFC 7677).
/// <see cref="ToString"/> leaves the password out: these settings end up in messages.
/// </summary>
public sealed class KafkaClientSasl
{
    public const string Plain = "PLAIN";

    public KafkaClientSasl(string mechanism, string username, string password)
    {
        var name = mechanism.Trim().ToUpperInvariant();
        if (name != Plain && ScramMechanism.FromName(name) is null)
            throw new ArgumentException($"SASL mechanism '{mechanism}' is not supported (expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", nameof(mechanism));
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        Mechanism = name;
        Username = username;
        Password = password;
    }

    /// <summary>PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, as the broker names them.</summary>
    public string Mechanism { get; }
    public string Username { get; }
    public string Password { get; }

    public override string ToString() => $"{Mechanism} as {Username}";
}
