using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// A fleet CA and node certificates (<see cref="AgentCertificates"/>, made with <c>edgestream certs</c>) in a
/// temporary directory that also holds the tests' data directories, and the <c>--tls-*</c> flags of a node
/// presenting one of them.
/// </summary>
public sealed class TlsFleet : IDisposable
{
    private readonly AgentCertificates _certificates;

    private TlsFleet()
    {
        Dir = new TempDirectory();
        _certificates = AgentCertificates.Create(Dir.Path);
    }

    public TempDirectory Dir { get; }
    public string Ca => _certificates.Ca;

    public static Task<TlsFleet> CreateAsync(params string[] nodes)
    {
        var fleet = new TlsFleet();
        foreach (var node in nodes) fleet.Issue(node);
        return Task.FromResult(fleet);
    }

    public Task IssueAsync(string node)
    {
        Issue(node);
        return Task.CompletedTask;
    }

    private void Issue(string node) => _certificates.Issue(node, "127.0.0.1");

    /// <summary>The TLS flags of a node presenting <paramref name="certificateOf"/>'s certificate.</summary>
    public string[] Flags(string certificateOf) => _certificates.NodeFlags(certificateOf);

    public string Certificate(string name) => _certificates.Certificate(name);

    public string Key(string name) => _certificates.Key(name);

    /// <summary>
    /// The flags of a node presenting a certificate for <paramref name="nodeId"/> signed by this fleet's CA
    /// that expired a minute ago (what <c>certs issue</c> never makes), while trusting <paramref name="trusted"/>'s CA.
    /// </summary>
    public string[] ExpiredFlags(string nodeId, TlsFleet trusted)
    {
        using var authority = X509Certificate2.CreateFromPemFile(Ca, Dir.Combine("ca", "ca.key"));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={nodeId}, O=EdgeStream", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddUri(new Uri($"edgestream://node/{nodeId}"));
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        // The CA itself is only minutes old: the certificate lives within its validity and ended a minute ago.
        using var certificate = request.Create(authority, authority.NotBefore, DateTimeOffset.UtcNow.AddMinutes(-1), RandomNumberGenerator.GetBytes(16));
        var path = Dir.Combine(nodeId + "-expired");
        File.WriteAllText(path + ".crt", certificate.ExportCertificatePem());
        File.WriteAllText(path + ".key", key.ExportPkcs8PrivateKeyPem());
        return ["--tls-cert", path + ".crt", "--tls-key", path + ".key", "--tls-ca", trusted.Ca];
    }

    public void Dispose() => Dir.Dispose();
}
