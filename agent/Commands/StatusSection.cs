using System.CommandLine;
using System.Text.Json;

namespace EdgeStream.Agent.Commands;

/// <summary>
/// What the verbs that read a running node's <c>/v1/status</c> share (<c>members</c>, <c>cdc status</c>):
/// their <c>--http</c> and <c>--format</c> options, fetching one property of the status, and
/// printing it as JSON.
/// </summary>
internal static class StatusSection
{
    public static Option<string> HttpOption() => new("--http")
    {
        Description = "The node's HTTP listener [default: 127.0.0.1:9094]",
        HelpName = "HOST:PORT",
        DefaultValueFactory = _ => "127.0.0.1:9094",
    };

    public static Option<string> FormatOption(string jsonWhat)
    {
        var format = new Option<string>("--format")
        {
            Description = $"table or json ({jsonWhat}) [default: table]",
            HelpName = "table|json",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json");
        return format;
    }

    /// <summary>
    /// The status's <paramref name="property"/> (a clone, the document is disposed), or null after
    /// printing why to stderr as <paramref name="verb"/>: the node unreachable, or <paramref name="missing"/>.
    /// </summary>
    public static async Task<JsonElement?> ReadAsync(string verb, string http, string property, string missing, CancellationToken ct)
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
        if (document.RootElement.TryGetProperty(property, out var section)) return section.Clone();
        Console.Error.WriteLine($"edgestream {verb}: the node at {http} {missing}");
        return null;
    }

    /// <summary>Writes <paramref name="section"/> indented to stdout.</summary>
    public static async Task WriteJsonAsync(JsonElement section, CancellationToken ct)
    {
        using var stream = Console.OpenStandardOutput();
        await using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            section.WriteTo(writer);
        await stream.WriteAsync("\n"u8.ToArray(), ct);
    }
}
