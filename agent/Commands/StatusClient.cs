using System.Text.Json;
using EdgeStream.Hosting;

namespace EdgeStream.Agent.Commands;

/// <summary>What the verbs that read a running node's <c>/v1/status</c> (members, files, cdc status) share: the --http and --format options, the fetch, JSON output.</summary>
internal static class StatusClient
{
    public const string DefaultHttp = "127.0.0.1:9094";

    public static System.CommandLine.Option<string> HttpOption() => new("--http")
    {
        Description = $"The node's HTTP listener [default: {DefaultHttp}]",
        HelpName = "HOST:PORT",
        DefaultValueFactory = _ => DefaultHttp,
    };

    /// <summary>--format table|json, table by default; json prints the status's <paramref name="section"/> object as it is.</summary>
    public static System.CommandLine.Option<string> FormatOption(string section)
    {
        var format = new System.CommandLine.Option<string>("--format")
        {
            Description = $"table or json (the status's {section} object) [default: table]",
            HelpName = "table|json",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json");
        return format;
    }

    /// <summary>
    /// The <paramref name="section"/> object of the node's status, or null after printing why (the node cannot be
    /// reached, or reports no such section) on stderr as <c>edgestream {verb}: …</c>.
    /// </summary>
    public static async Task<JsonElement?> GetSectionAsync(string http, string section, string verb, string missing, CancellationToken ct)
    {
        var url = $"http://{http}/v1/status";
        string body;
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            body = await client.GetStringAsync(url, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            Console.Error.WriteLine($"edgestream {verb}: cannot read {url}: {ex.Message}");
            return null;
        }
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty(section, out var element))
        {
            Console.Error.WriteLine($"edgestream {verb}: the node at {http} {missing}");
            return null;
        }
        return element.Clone();
    }

    /// <summary>Writes <paramref name="element"/> to stdout as indented JSON and a newline.</summary>
    public static async Task<int> WriteJsonAsync(JsonElement element, CancellationToken ct)
    {
        using var stream = Console.OpenStandardOutput();
        await using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            element.WriteTo(writer);
        await stream.WriteAsync("\n"u8.ToArray(), ct);
        return ExitCodes.Ok;
    }

    public static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
}
