using System.Security.Cryptography.X509Certificates;
using EdgeStream.TestSupport;

namespace EdgeStream.Cli.Tests;

/// <summary>
/// <c>edgestream certs</c>: a fleet CA and node certificates, checked with OpenSSL (what other TLS
/// stacks will make of them) and by reading the files back.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CertsCliTests
{
    private static Task<CliResult> Run(params string[] args) => CliProcess.EdgestreamAsync(args);

    private static CliResult OpenSsl(params string[] args)
    {
        var (code, stdout, stderr) = ExternalTool.Run("openssl", args, timeout: TimeSpan.FromSeconds(30));
        return new CliResult(code, stdout, stderr);
    }

    [Fact]
    public async Task InitIssueShow_OpenSslVerifiesTheChain_NodeIdInTheCertificate_KeysOwnerOnly()
    {
        using var dir = new TempDirectory();
        var ca = dir.Combine("ca");
        var node = dir.Combine("node");

        var init = await Run("certs", "init", "--dir", ca);
        Assert.True(init.ExitCode == 0, init.ToString());
        var issue = await Run("certs", "issue", "edge-7", "--ca", ca, "--out", node, "--host", "gw.factory.local", "--host", "10.1.2.3");
        Assert.True(issue.ExitCode == 0, issue.ToString());

        // OpenSSL accepts the chain for both uses the node puts the certificate to.
        foreach (var purpose in new[] { "sslserver", "sslclient" })
        {
            var verify = OpenSsl("verify", "-purpose", purpose, "-CAfile", Path.Combine(ca, "ca.crt"), Path.Combine(node, "edge-7.crt"));
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Contains(": OK", StringComparison.Ordinal), verify.ToString());
        }
        var text = OpenSsl("x509", "-in", Path.Combine(node, "edge-7.crt"), "-noout", "-ext", "subjectAltName,basicConstraints");
        Assert.Contains("URI:edgestream://node/edge-7", text.Stdout);
        Assert.Contains("DNS:gw.factory.local", text.Stdout);
        Assert.Contains("IP Address:10.1.2.3", text.Stdout);
        Assert.Contains("CA:FALSE", text.Stdout);
        // The CA may sign node certificates only (path length 0).
        Assert.Contains("pathlen:0", OpenSsl("x509", "-in", Path.Combine(ca, "ca.crt"), "-noout", "-ext", "basicConstraints").Stdout);

        // Keys owner-only, certificates readable; the CA's certificate copied beside the node's.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(ca, "ca.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(node, "edge-7.key")));
        Assert.True(File.GetUnixFileMode(Path.Combine(node, "edge-7.crt")).HasFlag(UnixFileMode.OtherRead));
        Assert.Equal(File.ReadAllText(Path.Combine(ca, "ca.crt")), File.ReadAllText(Path.Combine(node, "ca.crt")));

        // The certificate and key pair up, and the node id reads back from the certificate.
        using var pair = X509Certificate2.CreateFromPemFile(Path.Combine(node, "edge-7.crt"), Path.Combine(node, "edge-7.key"));
        Assert.True(pair.HasPrivateKey);
        Assert.Equal("edge-7", EdgeStream.Security.Certificates.NodeIdentity.NodeIdOf(pair));
        Assert.True(pair.NotAfter - DateTime.Now > TimeSpan.FromDays(390));

        var show = await Run("certs", "show", Path.Combine(node, "edge-7.crt"));
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("node id:     edge-7", show.Stdout);
        Assert.Contains("issuer:      CN=EdgeStream fleet CA, O=EdgeStream", show.Stdout);
        Assert.Contains("ECDSA 256 bits", show.Stdout);
        Assert.Contains("Server Authentication", show.Stdout);
        Assert.Contains("ca:          yes", (await Run("certs", "show", Path.Combine(ca, "ca.crt"))).Stdout);
        Assert.Contains("private key: ECDSA 256 bits", (await Run("certs", "show", Path.Combine(node, "edge-7.key"))).Stdout);
    }

    [Fact]
    public async Task Certs_Refusals_SayWhyAndTouchNothing()
    {
        using var dir = new TempDirectory();
        var ca = dir.Combine("ca");
        Assert.Equal(0, (await Run("certs", "init", "--dir", ca)).ExitCode);
        var caBefore = File.ReadAllText(Path.Combine(ca, "ca.crt"));

        // A second init would orphan every certificate the CA issued.
        var again = await Run("certs", "init", "--dir", ca);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Stderr);
        Assert.Equal(caBefore, File.ReadAllText(Path.Combine(ca, "ca.crt")));

        var badId = await Run("certs", "issue", "no spaces", "--ca", ca, "--out", dir.Combine("n"));
        Assert.Equal(1, badId.ExitCode);
        Assert.Contains("node id 'no spaces' is not valid", badId.Stderr);

        var noCa = await Run("certs", "issue", "edge-1", "--ca", dir.Combine("missing"), "--out", dir.Combine("n"));
        Assert.Equal(1, noCa.ExitCode);
        Assert.Contains("certs init", noCa.Stderr);

        var badHost = await Run("certs", "issue", "edge-1", "--ca", ca, "--out", dir.Combine("n"), "--host", "not a host!");
        Assert.Equal(1, badHost.ExitCode);
        Assert.Contains("neither an IP address nor a DNS name", badHost.Stderr);
        Assert.False(File.Exists(Path.Combine(dir.Combine("n"), "edge-1.key")));

        Assert.Equal(0, (await Run("certs", "issue", "edge-1", "--ca", ca, "--out", dir.Combine("n"))).ExitCode);
        var replace = await Run("certs", "issue", "edge-1", "--ca", ca, "--out", dir.Combine("n"));
        Assert.Equal(1, replace.ExitCode);
        Assert.Equal(0, (await Run("certs", "issue", "edge-1", "--ca", ca, "--out", dir.Combine("n"), "--force")).ExitCode);

        var notPem = Path.Combine(dir.Path, "junk.crt");
        await File.WriteAllTextAsync(notPem, "hello");
        var show = await Run("certs", "show", notPem);
        Assert.Equal(1, show.ExitCode);
        Assert.Contains("not a PEM certificate", show.Stderr);
    }
}
