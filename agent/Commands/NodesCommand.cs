using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// <c>edgestream nodes revoke ID | unrevoke ID | revoked</c>: a running gateway's or cloud node's deny
/// list of child node ids, through its HTTP API (<c>/v1/nodes/revoked</c>), so a change takes effect on
/// the child's next frame without a restart. Changes need the node's <c>--http-token</c>; with
/// <c>--tls-ca</c> the node is reached over HTTPS and trusted only if that CA issued its certificate.
/// </summary>
internal static class NodesCommand
{
    private const string TokenVariable = "EDGESTREAM_HTTP_TOKEN";

    private sealed record Connection(Option<string> Http, Option<string> Token, Option<string> TlsCa);

    public static Command Create()
    {
        var command = new Command("nodes", "Revoke, unrevoke and list the child nodes a running gateway or cloud node refuses uplinks from.");
        command.Subcommands.Add(Change("revoke", "Revoke a node: its uplinks (and records relayed from it) are refused from its next frame on.", HttpMethod.Post));
        command.Subcommands.Add(Change("unrevoke", "Unrevoke a node: its uplinks are accepted again and it sends what it kept.", HttpMethod.Delete));
        command.Subcommands.Add(List());
        return command;
    }

    private static Connection AddConnection(Command command)
    {
        var connection = new Connection(
            StatusClient.HttpOption(),
            new Option<string>("--http-token") { Description = $"The node's --http-token (needed to change the list) [default: ${TokenVariable}]", HelpName = "TOKEN" },
            new Option<string>("--tls-ca") { Description = "The fleet CA (PEM): reach a node with --tls-cert over HTTPS, trusting only this CA", HelpName = "FILE" });
        command.Options.Add(connection.Http);
        command.Options.Add(connection.Token);
        command.Options.Add(connection.TlsCa);
        return connection;
    }

    private static Command Change(string verb, string description, HttpMethod method)
    {
        var nodeId = new Argument<string>("NODE_ID") { Description = "The node id." };
        var command = new Command(verb, description) { nodeId };
        var connection = AddConnection(command);
        command.SetAction(async (parseResult, ct) =>
        {
            var id = parseResult.GetValue(nodeId)!;
            if (!EdgeStream.Uplink.Receiving.ChildIdentity.IsValidNodeId(id))
            {
                Console.Error.WriteLine($"edgestream nodes {verb}: '{id}' is not a node id (1-64 of A-Z a-z 0-9 . _ -).");
                return ExitCodes.Usage;
            }
            var token = parseResult.GetValue(connection.Token) ?? Environment.GetEnvironmentVariable(TokenVariable);
            var result = await SendAsync(parseResult, connection, verb, method, "/" + id, token, ct);
            if (result is not { } answer) return ExitCodes.Failure;
            if (answer.Status is HttpStatusCode.OK or HttpStatusCode.Created)
            {
                Console.Out.Write(answer.Body);
                return ExitCodes.Ok;
            }
            Console.Error.WriteLine($"edgestream nodes {verb}: {(int)answer.Status} {answer.Body.Trim()}");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static Command List()
    {
        var command = new Command("revoked", "List the revoked nodes and since when.");
        var connection = AddConnection(command);
        command.SetAction(async (parseResult, ct) =>
        {
            if (await SendAsync(parseResult, connection, "revoked", HttpMethod.Get, "", null, ct) is not { } answer) return ExitCodes.Failure;
            if (answer.Status != HttpStatusCode.OK)
            {
                Console.Error.WriteLine($"edgestream nodes revoked: {(int)answer.Status} {answer.Body.Trim()} (only gateway and cloud nodes keep a deny list)");
                return ExitCodes.Failure;
            }
            using var document = JsonDocument.Parse(answer.Body);
            var nodes = document.RootElement.GetProperty("nodes");
            if (nodes.GetArrayLength() == 0) Console.Out.WriteLine("no revoked nodes");
            foreach (var node in nodes.EnumerateArray())
                Console.Out.WriteLine($"{StatusClient.Text(node, "nodeId")}\t{StatusClient.Text(node, "revokedAt")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<(HttpStatusCode Status, string Body)?> SendAsync(ParseResult parseResult, Connection connection, string verb,
        HttpMethod method, string suffix, string? token, CancellationToken ct)
    {
        var http = parseResult.GetValue(connection.Http)!;
        var ca = parseResult.GetValue(connection.TlsCa);
        var url = $"{(ca is null ? "http" : "https")}://{http}/v1/nodes/revoked{suffix}";
        try
        {
            using var client = Client(ca);
            using var request = new HttpRequestMessage(method, url);
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request, ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException
            or IOException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"edgestream nodes {verb}: cannot reach {url}: {ex.GetBaseException().Message}");
            return null;
        }
    }

    /// <summary>Plain HTTP, or HTTPS trusting only the fleet CA in <paramref name="caPath"/> (the system's roots are not asked).</summary>
    private static HttpClient Client(string? caPath)
    {
        if (caPath is null) return new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(caPath);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            // A name mismatch is still refused; only the chain is checked against the fleet CA instead of the system's roots.
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            var peer = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return EdgeStream.Security.Tls.TlsMaterial.Verify(peer, authorities, out _);
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }
}
