using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeStream.Security.Certificates;

/// <summary>
/// A fleet's own PKI in two steps: <see cref="InitAuthority"/> makes a CA (ECDSA P-256, 10 years,
/// may sign node certificates only: path length 0), <see cref="IssueNode"/> a node certificate
/// signed by it (ECDSA P-256, 397 days by default, server and client use, the node id as a URI
/// SAN). Files are PEM; private keys are written owner-only (0600) and never overwritten silently.
/// </summary>
public static partial class FleetCertificates
{
    public const string CaCertificateFile = "ca.crt";
    public const string CaKeyFile = "ca.key";
    public static readonly TimeSpan AuthorityLifetime = TimeSpan.FromDays(3650);
    public const int DefaultNodeDays = 397;
    // Clocks of freshly booted devices lag: a certificate valid from a few minutes ago works on them too.
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Readable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Creates the CA's certificate and key in <paramref name="directory"/>; refuses to replace an existing CA unless <paramref name="force"/>.</summary>
    public static (string Certificate, string Key) InitAuthority(string directory, string name, bool force)
    {
        Directory.CreateDirectory(directory);
        var certificatePath = Path.Combine(directory, CaCertificateFile);
        var keyPath = Path.Combine(directory, CaKeyFile);
        if (!force && (File.Exists(certificatePath) || File.Exists(keyPath)))
            throw new SecurityException($"{directory} already holds a CA ({CaCertificateFile}/{CaKeyFile}); every certificate it issued would stop verifying if it were replaced. Use another directory, or --force to replace it.");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(name)}, O=EdgeStream"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now - Backdate, now + AuthorityLifetime);
        Write(keyPath, key.ExportPkcs8PrivateKeyPem(), OwnerOnly);
        Write(certificatePath, certificate.ExportCertificatePem(), Readable);
        return (certificatePath, keyPath);
    }

    /// <summary>
    /// Issues <paramref name="nodeId"/>'s certificate and key into <paramref name="outputDirectory"/>
    /// (<c>{nodeId}.crt</c>, <c>{nodeId}.key</c>, and the CA's certificate beside them), signed by the
    /// CA in <paramref name="caDirectory"/>. <paramref name="hosts"/> adds DNS names or IP addresses
    /// clients use to reach the node.
    /// </summary>
    public static (string Certificate, string Key) IssueNode(string caDirectory, string nodeId, string outputDirectory, IReadOnlyList<string> hosts, int days, bool force)
    {
        if (!NodeIdPattern().IsMatch(nodeId))
            throw new SecurityException($"node id '{nodeId}' is not valid: 1-64 of A-Z a-z 0-9 . _ - (the same rule as --node-id).");
        if (days is < 1 or > 3650) throw new SecurityException($"--days {days}: between 1 and 3650.");
        using var authority = LoadAuthority(caDirectory);
        Directory.CreateDirectory(outputDirectory);
        var certificatePath = Path.Combine(outputDirectory, nodeId + ".crt");
        var keyPath = Path.Combine(outputDirectory, nodeId + ".key");
        if (!force && (File.Exists(certificatePath) || File.Exists(keyPath)))
            throw new SecurityException($"{certificatePath} or its key exists already; use --force to replace them.");

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={Escape(nodeId)}, O=EdgeStream"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(NodeIdentity.Uri(nodeId)));
        if (DnsNamePattern().IsMatch(nodeId)) san.AddDnsName(nodeId);
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var address)) san.AddIpAddress(address);
            else if (DnsNamePattern().IsMatch(host)) san.AddDnsName(host);
            else throw new SecurityException($"--host '{host}' is neither an IP address nor a DNS name.");
        }
        request.CertificateExtensions.Add(san.Build());

        var now = DateTimeOffset.UtcNow;
        var notAfter = now.AddDays(days);
        if (notAfter > authority.NotAfter) notAfter = authority.NotAfter; // never outlive the CA
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        using var certificate = request.Create(authority, now - Backdate, notAfter, serial);
        Write(keyPath, key.ExportPkcs8PrivateKeyPem(), OwnerOnly);
        Write(certificatePath, certificate.ExportCertificatePem(), Readable);
        var caCopy = Path.Combine(outputDirectory, CaCertificateFile);
        if (!File.Exists(caCopy)) Write(caCopy, authority.ExportCertificatePem(), Readable);
        return (certificatePath, keyPath);
    }

    /// <summary>The CA's certificate with its private key.</summary>
    public static X509Certificate2 LoadAuthority(string caDirectory)
    {
        var certificatePath = Path.Combine(caDirectory, CaCertificateFile);
        var keyPath = Path.Combine(caDirectory, CaKeyFile);
        if (!File.Exists(certificatePath) || !File.Exists(keyPath))
            throw new SecurityException($"no CA in {caDirectory}: {CaCertificateFile} and {CaKeyFile} are needed (create one with 'edgestream certs init --dir {caDirectory}').");
        try
        {
            var certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                certificate.Dispose();
                throw new SecurityException($"{certificatePath} is not a CA certificate.");
            }
            return certificate;
        }
        catch (CryptographicException ex)
        {
            throw new SecurityException($"cannot read the CA in {caDirectory}: {ex.Message}", ex);
        }
    }

    /// <summary>What <c>certs show</c> prints about a PEM certificate (or a private key's type).</summary>
    public static string Describe(string path)
    {
        if (!File.Exists(path)) throw new SecurityException($"{path}: no such file.");
        var text = File.ReadAllText(path);
        if (text.Contains("PRIVATE KEY", StringComparison.Ordinal) && !text.Contains("CERTIFICATE", StringComparison.Ordinal))
            return DescribeKey(path, text);
        X509Certificate2 certificate;
        try { certificate = X509Certificate2.CreateFromPem(text); }
        catch (CryptographicException ex) { throw new SecurityException($"{path}: not a PEM certificate ({ex.Message}).", ex); }
        using (certificate)
        {
            var output = new StringBuilder();
            output.Append("subject:     ").AppendLine(certificate.Subject);
            output.Append("issuer:      ").AppendLine(certificate.Issuer);
            output.Append("serial:      ").AppendLine(certificate.SerialNumber);
            output.Append("valid:       ").Append(certificate.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture))
                .Append(" to ").AppendLine(certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
            var isCa = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true };
            output.Append("ca:          ").AppendLine(isCa ? "yes" : "no");
            output.Append("node id:     ").AppendLine(NodeIdentity.NodeIdOf(certificate) ?? "-");
            var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
            output.Append("names:       ").AppendLine(san is null ? "-" : string.Join(", ", NodeIdentity.Names(san)));
            var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
            output.Append("usage:       ").AppendLine(usages is null ? "-" : string.Join(", ", usages.EnhancedKeyUsages.Cast<Oid>().Select(o => o.FriendlyName ?? o.Value)));
            output.Append("key:         ").AppendLine(KeyDescription(certificate));
            output.Append("sha256:      ").AppendLine(Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)));
            if (certificate.NotAfter.ToUniversalTime() < DateTime.UtcNow) output.AppendLine("EXPIRED");
            return output.ToString();
        }
    }

    private static string DescribeKey(string path, string pem)
    {
        using (var ec = ECDsa.Create())
        {
            try
            {
                ec.ImportFromPem(pem);
                return $"private key: ECDSA {ec.KeySize} bits\n";
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException) { }
        }
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return $"private key: RSA {rsa.KeySize} bits\n";
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new SecurityException($"{path}: not a PEM certificate or a private key EdgeStream can read ({ex.Message}).", ex);
        }
    }

    private static string KeyDescription(X509Certificate2 certificate)
    {
        using var ec = certificate.GetECDsaPublicKey();
        if (ec is not null) return $"ECDSA {ec.KeySize} bits";
        using var rsa = certificate.GetRSAPublicKey();
        return rsa is not null ? $"RSA {rsa.KeySize} bits" : certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value ?? "unknown";
    }

    /// <summary>Writes a new file with <paramref name="mode"/> from its creation (a key is never readable by others, not even briefly).</summary>
    private static void Write(string path, string content, UnixFileMode mode)
    {
        var temp = path + ".tmp";
        File.Delete(temp);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(Encoding.ASCII.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        DirectorySync.Sync(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("=", "\\=", StringComparison.Ordinal).Replace("+", "\\+", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NodeIdPattern();

    [GeneratedRegex("^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex DnsNamePattern();
}
