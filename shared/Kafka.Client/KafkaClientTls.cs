using System.Security.Cryptography.X509Certificates;

namespace EdgeStream.Kafka.Client;

/// <summary>
/// TLS toward the brokers (Kafka's SSL and SASL_SSL): the broker's certificate must name the host
/// this client dialled (SAN DNS name or IP address) and chain to <see cref="Authorities"/>; with
/// <see cref="ClientCertificate"/> the client presents it when the broker asks (mTLS).
/// </summary>
public sealed class KafkaClientTls
{
    /// <summary>
    /// The CA certificates the broker's certificate must chain to, and only to them (custom root
    /// trust); null trusts the system's roots instead (a cluster with a public certificate).
    /// </summary>
    public X509Certificate2Collection? Authorities { get; init; }

    /// <summary>The client certificate with its private key, or null for server-only TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }
}
