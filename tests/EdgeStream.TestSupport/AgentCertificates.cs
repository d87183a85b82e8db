using Xunit;

namespace EdgeStream.TestSupport;

/// <summary>
/// A CA and the certificates it issues, made with <c>edgestream certs</c> as a user would:
/// <c>{dir}/ca</c> holds the CA, <c>{dir}/NAME</c> each certificate with its key and <c>ca.crt</c>.
/// </summary>
public sealed class AgentCertificates
{
    private readonly string _directory;

    private AgentCertificates(string directory) => _directory = directory;

    /// <summary><c>edgestream certs init</c> under <paramref name="directory"/>; asserts success.</summary>
    public static AgentCertificates Create(string directory)
    {
        var certificates = new AgentCertificates(directory);
        Run("init", "--dir", certificates.CaDirectory);
        return certificates;
    }

    /// <summary>A CA with a certificate for node <paramref name="nodeId"/> (naming 127.0.0.1, to serve the tests) and one for each of <paramref name="clients"/>.</summary>
    public static AgentCertificates ForNode(string directory, string nodeId, params string[] clients)
    {
        var certificates = Create(directory);
        certificates.Issue(nodeId, "127.0.0.1");
        foreach (var client in clients) certificates.Issue(client);
        return certificates;
    }

    private string CaDirectory => Path.Combine(_directory, "ca");

    /// <summary>The CA certificate (what <c>--tls-ca</c>, <c>ssl.ca.location</c> and <c>--cafile</c> name).</summary>
    public string Ca => Path.Combine(CaDirectory, "ca.crt");

    public string Certificate(string name) => Path.Combine(_directory, name, name + ".crt");

    public string Key(string name) => Path.Combine(_directory, name, name + ".key");

    /// <summary><c>edgestream certs issue NAME</c>, each of <paramref name="hosts"/> as a <c>--host</c>; asserts success.</summary>
    public void Issue(string name, params string[] hosts) =>
        Run(["issue", name, "--ca", CaDirectory, "--out", Path.Combine(_directory, name), .. hosts.SelectMany(h => new[] { "--host", h })]);

    /// <summary>The flags of a node presenting <paramref name="name"/>'s certificate and trusting this CA.</summary>
    public string[] NodeFlags(string name) => ["--tls-cert", Certificate(name), "--tls-key", Key(name), "--tls-ca", Ca];

    private static void Run(params string[] args)
    {
        var (code, stdout, stderr) = ExternalTool.Run("dotnet", [AgentProcess.AgentDll, "certs", .. args], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"edgestream certs {string.Join(' ', args)}: exit {code}\n{stdout}\n{stderr}");
    }
}
