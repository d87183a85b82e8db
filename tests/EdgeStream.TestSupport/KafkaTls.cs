using System.Collections.Concurrent;
using Confluent.Kafka;

namespace EdgeStream.TestSupport;

/// <summary>
/// Which test nodes speak Kafka over TLS, by bootstrap address, and the CA to trust them with: a node
/// started with <c>--tls-cert</c> and <c>--tls-ca</c> registers itself, so the shared readers and
/// producers (<see cref="LogReader"/>, the hierarchy helpers) reach it without each test passing SSL settings.
/// </summary>
public static class KafkaTls
{
    private static readonly ConcurrentDictionary<string, string> s_authorities = new(StringComparer.Ordinal);

    public static void Register(string bootstrap, string caPath) => s_authorities[bootstrap] = caPath;

    /// <summary><paramref name="config"/> with SSL and the node's CA when <paramref name="bootstrap"/> is a TLS node; unchanged otherwise.</summary>
    public static T For<T>(string bootstrap, T config) where T : ClientConfig
    {
        if (s_authorities.TryGetValue(bootstrap, out var ca))
        {
            config.SecurityProtocol = SecurityProtocol.Ssl;
            config.SslCaLocation = ca;
        }
        return config;
    }
}
