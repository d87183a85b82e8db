using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.TestSupport;

namespace EdgeStream.Hierarchy.Tests;

/// <summary>
/// A fleet CA and node certificates made with <c>edgestream certs</c> in a temporary directory, and the
/// <c>--tls-*</c> flags of a node presenting one of them.
/// </summary>
public sealed class TlsFleet : IDisposable
{
    public TempDirectory Dir { get; } = new();
    public string Ca => Dir.Combine("ca", "ca.crt");

    public static async Task<TlsFleet> CreateAsync(params string[] nodes)
    {
        var fleet = new TlsFleet();
        await Certs("init", "--dir", fleet.Dir.Combine("ca"));
        foreach (var node in nodes) await fleet.IssueAsync(node);
        return fleet;
    }

    public Task IssueAsync(string node) =>
        Certs("issue", node, "--ca", Dir.Combine("ca"), "--out", Dir.Combine("certs"), "--host", "127.0.0.1");

    /// <summary>The TLS flags of a node presenting <paramref name="certificateOf"/>'s certificate.</summary>
    public string[] Flags(string certificateOf) =>
        ["--tls-cert", Dir.Combine("certs", certificateOf + ".crt"), "--tls-key", Dir.Combine("certs", certificateOf + ".key"), "--tls-ca", Ca];

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
        var path = Dir.Combine("certs", nodeId + "-expired");
        File.WriteAllText(path + ".crt", certificate.ExportCertificatePem());
        File.WriteAllText(path + ".key", key.ExportPkcs8PrivateKeyPem());
        return ["--tls-cert", path + ".crt", "--tls-key", path + ".key", "--tls-ca", trusted.Ca];
    }

    private static async Task Certs(params string[] args)
    {
        var (code, stdout, stderr) = await AgentProcess.RunToExitAsync(Path.GetTempPath(), ["certs", .. args]);
        Assert.True(code == 0, $"edgestream certs {string.Join(' ', args)}: exit {code}\n{stdout}\n{stderr}");
    }

    public void Dispose() => Dir.Dispose();
}
