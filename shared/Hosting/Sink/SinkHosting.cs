using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.Hosting.Configuration;
using EdgeStream.Hosting.Storage;
using EdgeStream.Kafka.Client;
using EdgeStream.Metadata;
using EdgeStream.Sink;
using EdgeStream.Uplink.Sending;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Hosting;

/// <summary>Wires the sink into an external Kafka cluster (<c>--sink</c>) from the agent's settings. Which role runs it is the role's decision.</summary>
public static class SinkHosting
{
    /// <summary>
    /// Forwards the node's log (what children sent, with its origins, and what was produced here) into
    /// the external cluster named by <c>--sink</c>; nothing when it is not set. Its state and counters
    /// appear in <c>/v1/status</c> and <c>/metrics</c>.
    /// </summary>
    public static RoleBuilder SinkToKafka(this RoleBuilder role)
    {
        if (role.Options.Sink is not { } bootstrap) return role;
        var options = new SinkOptions
        {
            Bootstrap = bootstrap,
            NodeId = role.Node.NodeId,
            Topics = new UplinkTopicRules(role.Options.SinkTopics, role.Options.SinkTopicPrefix, role.Options.SinkTopicMap),
            GapWait = role.Options.SinkGapWait,
            Tls = LoadTls(role.Options),
            Sasl = LoadSasl(role.Options),
        };
        role.Services.AddSingleton(new SinkStatus(string.Join(",", bootstrap), options.SecurityProtocol));
        role.Services.AddHostedService(sp =>
        {
            var state = sp.GetRequiredService<StorageState>();
            return new KafkaSinkService(options, () => state.Catalog, sp.GetRequiredService<MetadataStore>(),
                sp.GetRequiredService<SinkStatus>(), sp.GetRequiredService<ILogger<KafkaSinkService>>());
        });
        return role;
    }

    /// <summary>The CA (or the system's roots) and client certificate of <c>--sink-tls-*</c>; null without <c>--sink-tls-ca</c>.</summary>
    private static KafkaClientTls? LoadTls(AgentOptions options)
    {
        if (options.SinkTlsCa is not { } caPath) return null;
        X509Certificate2Collection? authorities = null;
        if (caPath != "system")
        {
            authorities = [];
            try { authorities.ImportFromPemFile(caPath); }
            catch (Exception ex) when (ex is CryptographicException or IOException)
            {
                throw new ConfigurationException($"{AgentSettings.SinkTlsCa.Flag} {caPath}: {ex.Message}");
            }
            if (authorities.Count == 0) throw new ConfigurationException($"{AgentSettings.SinkTlsCa.Flag} {caPath}: no certificate in it.");
        }
        X509Certificate2? certificate = null;
        if (options.SinkTlsCert is { } certPath)
        {
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(certPath, options.SinkTlsKey!);
                // Re-imported as PKCS#12 so the key is usable by the TLS stack on every platform.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException)
            {
                throw new ConfigurationException($"{AgentSettings.SinkTlsCert.Flag} {certPath} with {AgentSettings.SinkTlsKey.Flag} {options.SinkTlsKey}: {ex.Message} (are they a PEM certificate and its private key?)");
            }
        }
        return new KafkaClientTls { Authorities = authorities, ClientCertificate = certificate };
    }

    /// <summary>The SASL credentials of <c>--sink-sasl*</c>, the password read once now from its variable or file; null without <c>--sink-sasl</c>.</summary>
    private static KafkaClientSasl? LoadSasl(AgentOptions options)
    {
        if (options.SinkSasl is not { } mechanism) return null;
        string password;
        if (options.SinkSaslPasswordEnv is { } variable)
        {
            password = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
                ? value
                : throw new ConfigurationException($"{AgentSettings.SinkSaslPasswordEnv.Flag}: environment variable {variable} is not set; export it with the password.");
        }
        else
        {
            var file = options.SinkSaslPasswordFile!;
            try { password = File.ReadAllText(file).TrimEnd('\r', '\n'); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ConfigurationException($"{AgentSettings.SinkSaslPasswordFile.Flag} {file}: {ex.Message}");
            }
        }
        return new KafkaClientSasl(mechanism, options.SinkSaslUsername!, password);
    }
}
