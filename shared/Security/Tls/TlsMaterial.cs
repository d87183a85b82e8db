using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeStream.Security.Certificates;

namespace EdgeStream.Security.Tls;

/// <summary>
/// A node's TLS identity and trust (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>): its
/// certificate with the private key, presented by every listener and, toward a parent, as the
/// client certificate; and the fleet CA that every certificate of another tier must chain to.
/// </summary>
public sealed class TlsMaterial : IDisposable
{
    private TlsMaterial(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        Certificate = certificate;
        Authorities = authorities;
    }

    public X509Certificate2 Certificate { get; }
    /// <summary>The CA certificates trusted for peers; empty without <c>--tls-ca</c>.</summary>
    public X509Certificate2Collection Authorities { get; }
    public bool HasAuthority => Authorities.Count > 0;

    /// <summary>Reads the PEM files; a problem is a <see cref="SecurityException"/> naming the file and the fix.</summary>
    public static TlsMaterial Load(string certificatePath, string keyPath, string? caPath)
    {
        foreach (var (path, setting) in new[] { (certificatePath, "--tls-cert"), (keyPath, "--tls-key") })
            if (!File.Exists(path)) throw new SecurityException($"{setting} {path}: no such file.");
        X509Certificate2 certificate;
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // Re-imported as PKCS#12 so the key is usable by the TLS stack on every platform.
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException ex)
        {
            throw new SecurityException($"--tls-cert {certificatePath} with --tls-key {keyPath}: {ex.Message} (are they a PEM certificate and its private key?)", ex);
        }
        var authorities = new X509Certificate2Collection();
        if (caPath is not null)
        {
            if (!File.Exists(caPath)) throw new SecurityException($"--tls-ca {caPath}: no such file.");
            try { authorities.ImportFromPemFile(caPath); }
            catch (CryptographicException ex) { throw new SecurityException($"--tls-ca {caPath}: {ex.Message}", ex); }
            if (authorities.Count == 0) throw new SecurityException($"--tls-ca {caPath}: no certificate in it.");
        }
        return new TlsMaterial(certificate, authorities);
    }

    /// <summary>
    /// Whether <paramref name="peer"/> chains to the fleet CA (and only to it: the system's roots are
    /// not trusted between tiers) and is within its validity; <paramref name="error"/> says why not.
    /// </summary>
    public bool Verify(X509Certificate2? peer, out string error) => Verify(peer, Authorities, out error);

    /// <summary>
    /// Whether <paramref name="peer"/> chains to one of <paramref name="authorities"/> only (the system's
    /// roots are not asked) and is within its validity: for a client that has the fleet CA but no certificate of its own.
    /// </summary>
    public static bool Verify(X509Certificate2? peer, X509Certificate2Collection authorities, out string error)
    {
        if (peer is null) { error = "no certificate presented"; return false; }
        if (authorities.Count == 0) { error = "no --tls-ca to verify it with"; return false; }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain.Build(peer))
        {
            error = "";
            return true;
        }
        error = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        if (error.Length == 0) error = "not issued by the fleet CA";
        return false;
    }

    /// <summary>The node id a peer's certificate names (<see cref="NodeIdentity"/>), or null.</summary>
    public static string? NodeIdOf(X509Certificate2? peer) => peer is null ? null : NodeIdentity.NodeIdOf(peer);

    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var ca in Authorities) ca.Dispose();
    }
}
