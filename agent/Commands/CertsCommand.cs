using System.CommandLine;
using EdgeStream.Hosting;
using EdgeStream.Security;
using EdgeStream.Security.Certificates;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream certs init|issue|show</c>: a fleet CA and node certificates (the node id in the
/// certificate), for TLS and mutual TLS between tiers; or a look at any PEM certificate or key.
/// </summary>
internal static class CertsCommand
{
    public static Command Create()
    {
        var command = new Command("certs", "Create a fleet CA, issue node certificates, show a certificate.");
        command.Subcommands.Add(Init());
        command.Subcommands.Add(Issue());
        command.Subcommands.Add(Show());
        return command;
    }

    private static Command Init()
    {
        var dir = new Option<string>("--dir") { Description = "Directory for ca.crt and ca.key (ca.key is written owner-only).", Required = true };
        var name = new Option<string>("--name") { Description = "The CA's common name.", DefaultValueFactory = _ => "EdgeStream fleet CA" };
        var force = new Option<bool>("--force") { Description = "Replace an existing CA (certificates it issued stop verifying)." };
        var command = new Command("init", "Create a fleet CA (ECDSA P-256, valid 10 years) in --dir.") { dir, name, force };
        command.SetAction(parseResult => Run(() =>
        {
            var (certificate, key) = FleetCertificates.InitAuthority(parseResult.GetValue(dir)!, parseResult.GetValue(name)!, parseResult.GetValue(force));
            Console.Out.WriteLine($"CA created: {certificate} (give it to every node as --tls-ca), {key} (keep it off the nodes)");
        }));
        return command;
    }

    private static Command Issue()
    {
        var nodeId = new Argument<string>("NODE_ID") { Description = "The node's id (its --node-id): written into the certificate." };
        var ca = new Option<string>("--ca") { Description = "Directory of the CA (from certs init).", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for NODE_ID.crt, NODE_ID.key and a copy of ca.crt.", DefaultValueFactory = _ => "." };
        var hosts = new Option<string[]>("--host") { Description = "DNS name or IP address clients use to reach the node; repeatable.", AllowMultipleArgumentsPerToken = true };
        var days = new Option<int>("--days") { Description = "Validity in days (never beyond the CA's).", DefaultValueFactory = _ => FleetCertificates.DefaultNodeDays };
        var force = new Option<bool>("--force") { Description = "Replace an existing certificate and key for this node." };
        var command = new Command("issue", "Issue a certificate for a node (server and client use, ECDSA P-256), signed by the fleet CA.") { nodeId, ca, output, hosts, days, force };
        command.SetAction(parseResult => Run(() =>
        {
            var (certificate, key) = FleetCertificates.IssueNode(parseResult.GetValue(ca)!, parseResult.GetValue(nodeId)!, parseResult.GetValue(output)!,
                parseResult.GetValue(hosts) ?? [], parseResult.GetValue(days), parseResult.GetValue(force));
            Console.Out.WriteLine($"issued {parseResult.GetValue(nodeId)}: {certificate} (--tls-cert), {key} (--tls-key, owner-only)");
        }));
        return command;
    }

    private static Command Show()
    {
        var file = new Argument<string>("FILE") { Description = "A PEM certificate (or private key)." };
        var command = new Command("show", "Print a certificate's subject, node id, names, validity, usage, key and fingerprint.") { file };
        command.SetAction(parseResult => Run(() => Console.Out.Write(FleetCertificates.Describe(parseResult.GetValue(file)!))));
        return command;
    }

    private static int Run(Action action)
    {
        try
        {
            action();
            return ExitCodes.Ok;
        }
        catch (SecurityException ex)
        {
            Console.Error.WriteLine($"edgestream certs: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"edgestream certs: {ex.Message}");
            return ExitCodes.Failure;
        }
    }
}
