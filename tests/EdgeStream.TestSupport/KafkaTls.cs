using System.Collections.Concurrent;
using Confluent.Kafka;

namespace EdgeStream.TestSupport;

/// <summary>
/// Which test nodes speak Kafka over TLS or SASL, by bootstrap address, and how to reach them: a node
/// started with <c>--tls-cert</c> and <c>--tls-ca</c> registers its CA itself, a test that gives a node
/// <c>--kafka-sasl</c> registers the credentials to read it with, so the shared readers and producers
/// (<see cref="LogReader"/>, the hierarchy helpers) reach it without each test passing security settings.
/// </summary>
public static class KafkaTls
{
    private static readonly ConcurrentDictionary<string, string> s_authorities = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, (SaslMechanism Mechanism, string User, string Password)> s_sasl = new(StringComparer.Ordinal);

    public static void Register(string bootstrap, string caPath) => s_authorities[bootstrap] = caPath;

    /// <summary>Clients of <paramref name="bootstrap"/> authenticate as <paramref name="user"/> (SASL_SSL with a registered CA, else SASL_PLAINTEXT).</summary>
    public static void RegisterSasl(string bootstrap, SaslMechanism mechanism, string user, string password) => s_sasl[bootstrap] = (mechanism, user, password);

    /// <summary><paramref name="config"/> with SSL and the node's CA, and SASL, as registered for <paramref name="bootstrap"/>; unchanged otherwise.</summary>
    public static T For<T>(string bootstrap, T config) where T : ClientConfig
    {
        var tls = s_authorities.TryGetValue(bootstrap, out var ca);
        if (tls)
        {
            config.SecurityProtocol = SecurityProtocol.Ssl;
            config.SslCaLocation = ca;
        }
        if (s_sasl.TryGetValue(bootstrap, out var sasl))
        {
            config.SecurityProtocol = tls ? SecurityProtocol.SaslSsl : SecurityProtocol.SaslPlaintext;
            config.SaslMechanism = sasl.Mechanism;
            config.SaslUsername = sasl.User;
            config.SaslPassword = sasl.Password;
        }
        return config;
    }
}
